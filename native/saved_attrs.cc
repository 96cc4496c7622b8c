// Python's str() of saved fields (saved_attrs.h).
#include "saved_attrs.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace tn {

std::string PythonStr(bool x) { return x ? "True" : "False"; }

std::string PythonStr(int64_t x) { return std::to_string(static_cast<uint64_t>(x)); }

std::string PythonStr(const c10::SymInt& x) {
  if (auto n = x.maybe_as_int()) return PythonStr(*n);
  std::ostringstream symbolic;
  symbolic << x;
  return symbolic.str();
}

// repr(float): the shortest digits that read back to x, fixed between 1e-4 and 1e16, else scientific
// with a two-digit exponent ('1e-05', '1.5e+16').
std::string PythonStr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[40];
  auto end = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific).ptr;
  std::string sci(buf, end);  // "-1.25e-05": sign, digits, exponent
  size_t e = sci.find('e');
  int exponent = std::atoi(sci.c_str() + e + 1);
  std::string sign = sci[0] == '-' ? "-" : "";
  std::string digits;
  for (size_t i = sign.size(); i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  if (exponent < -4 || exponent >= 16) {
    std::string mantissa = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    std::string exp = std::to_string(std::abs(exponent));
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (exp.size() < 2 ? "0" : "") + exp;
  }
  if (exponent < 0) return sign + "0." + std::string(-exponent - 1, '0') + digits;
  if (digits.size() <= static_cast<size_t>(exponent) + 1) return sign + digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
  return sign + digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
}

std::string PythonStr(const at::Scalar& x) {
  if (x.isComplex()) {
    // str(complex): each part as repr without a trailing '.0', the real part left out when it is +0
    auto part = [](double v) {
      std::string s = PythonStr(v);
      return s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0 ? s.substr(0, s.size() - 2) : s;
    };
    auto c = x.toComplexDouble();
    if (c.real() == 0 && !std::signbit(c.real())) return part(c.imag()) + "j";
    return "(" + part(c.real()) + (std::signbit(c.imag()) ? "" : "+") + part(c.imag()) + "j)";
  }
  if (x.isFloatingPoint()) return PythonStr(x.toDouble());
  if (x.isBoolean()) return PythonStr(x.toBool());
  return std::to_string(x.toLong());  // PyLong_FromLong: signed
}

std::string PythonStr(const std::string& x) { return x; }

}  // namespace tn

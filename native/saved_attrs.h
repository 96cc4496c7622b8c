// What a backward node saved for its backward, read as Python reads it (`grad_fn._saved_<name>`): the
// tensors, and every other field as Python's str() of the value Python would return. Behind makeDot's
// showSaved/showAttrs. The per-class table is generated at build time from the LibTorch being built
// against (scripts/gen/saved-attrs.js → build/generated/saved_attrs.cc).
#pragma once
#include <ATen/core/ivalue.h>
#include <c10/core/Scalar.h>
#include <c10/core/SymInt.h>
#include <torch/csrc/autograd/edge.h>
#include <torch/csrc/autograd/saved_variable.h>

#include <optional>
#include <string>
#include <vector>

namespace tn {

// How this LibTorch owns a node (std::shared_ptr up to 2.12, c10::intrusive_ptr after): what
// SavedVariable::unpack takes to rebuild a saved output's grad_fn.
using NodePtr = decltype(torch::autograd::Edge::function);

struct SavedVisitor {
  virtual ~SavedVisitor() = default;
  virtual void tensor(const char* name, const torch::autograd::SavedVariable& saved, const NodePtr& node) = 0;
  virtual void tensors(const char* name, const std::vector<torch::autograd::SavedVariable>& saved, const NodePtr& node) = 0;
  virtual void value(const char* name, std::string python_str) = 0;
};

// Hands `node`'s saved fields to `v` sorted by name, as Python's dir() lists them; false for a class with none (AccumulateGrad,
// hand-written nodes, custom functions), as Python lists no `_saved_` attribute there.
bool VisitSaved(const NodePtr& node, SavedVisitor& v);

// Python's str() of the value each getter returns (torchgen's gen_autograd_functions.py): ints go
// through PyLong_FromUnsignedLong there, so a negative saved int shows as its two's complement.
std::string PythonStr(bool x);
std::string PythonStr(int64_t x);
std::string PythonStr(const c10::SymInt& x);
std::string PythonStr(double x);
std::string PythonStr(const at::Scalar& x);
std::string PythonStr(const std::string& x);

// Declared together first: each may hold another (an optional list), and ADL would not find them.
template <typename T>
std::string PythonStr(const std::optional<T>& x);
template <typename T>
std::string PythonStr(const std::vector<T>& items);

template <typename T>
std::string PythonStr(const std::optional<T>& x) {
  return x ? PythonStr(*x) : "None";
}

template <typename T>
std::string PythonStr(const std::vector<T>& items) {  // a tuple: (1, 2), (1,), ()
  std::string s = "(";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + PythonStr(items[i]);
  return s + (items.size() == 1 ? ",)" : ")");
}

template <typename T>
std::string PythonStr(const c10::OptionalArray<T>& x) {
  return PythonStr(x.list);
}

}  // namespace tn

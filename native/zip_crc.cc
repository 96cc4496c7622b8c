// zip_crc.h: the central directory's CRC-32 values, and CRC-32 itself.
#include "zip_crc.h"

#include <array>
#include <stdexcept>
#include <vector>

namespace tn {
namespace {

// Slicing-by-8: table k gives the CRC of a byte followed by k zero bytes, so eight bytes fold in at once
// (several times faster than a byte at a time; a package's weights can be hundreds of MB).
using Tables = std::array<std::array<uint32_t, 256>, 8>;

const Tables& CrcTables() {
  static const Tables tables = [] {
    Tables t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (size_t k = 1; k < 8; ++k) {
      for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
    }
    return t;
  }();
  return tables;
}

uint64_t Le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::vector<unsigned char> ReadAt(const caffe2::serialize::ReadAdapterInterface& file, uint64_t pos, size_t n) {
  if (pos > file.size() || n > file.size() - pos) throw std::runtime_error("the zip directory points past the end of the file");
  std::vector<unsigned char> buf(n);
  if (file.read(pos, buf.data(), n, "zip directory") != n) throw std::runtime_error("the zip directory could not be read");
  return buf;
}

}  // namespace

uint32_t Crc32(const void* data, size_t n, uint32_t crc) {
  const Tables& t = CrcTables();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = crc ^ static_cast<uint32_t>(Le(p, 4)), hi = static_cast<uint32_t>(Le(p + 4, 4));
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^
          t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) crc = t[0][(crc ^ *p) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::map<std::string, uint32_t> ZipCrcs(const caffe2::serialize::ReadAdapterInterface& file) {
  // The end-of-central-directory record: in the last 22 + 65535 bytes (it may carry a comment).
  const uint64_t size = file.size();
  const uint64_t tail = std::min<uint64_t>(size, 22 + 65535);
  std::vector<unsigned char> end = ReadAt(file, size - tail, tail);
  int64_t eocd = -1;
  for (int64_t i = static_cast<int64_t>(tail) - 22; i >= 0; --i) {
    if (Le(&end[i], 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw std::runtime_error("no zip end-of-central-directory record");
  uint64_t entries = Le(&end[eocd + 10], 2);
  uint64_t dirOffset = Le(&end[eocd + 16], 4);
  if (dirOffset == 0xFFFFFFFF || entries == 0xFFFF) {
    // zip64: the locator just before the record points at the zip64 end record
    if (eocd < 20 || Le(&end[eocd - 20], 4) != 0x07064b50) throw std::runtime_error("a zip64 archive without its zip64 locator");
    uint64_t record = Le(&end[eocd - 20 + 8], 8);
    std::vector<unsigned char> z = ReadAt(file, record, 56);
    if (Le(z.data(), 4) != 0x06064b50) throw std::runtime_error("a damaged zip64 end-of-central-directory record");
    entries = Le(&z[32], 8);
    dirOffset = Le(&z[48], 8);
  }
  std::map<std::string, uint32_t> crcs;
  uint64_t pos = dirOffset;
  for (uint64_t k = 0; k < entries; ++k) {
    std::vector<unsigned char> h = ReadAt(file, pos, 46);
    if (Le(h.data(), 4) != 0x02014b50) throw std::runtime_error("a damaged zip central directory entry");
    uint32_t crc = static_cast<uint32_t>(Le(&h[16], 4));
    size_t nameLen = Le(&h[28], 2), extraLen = Le(&h[30], 2), commentLen = Le(&h[32], 2);
    std::vector<unsigned char> name = ReadAt(file, pos + 46, nameLen);
    crcs[std::string(name.begin(), name.end())] = crc;
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return crcs;
}

}  // namespace tn

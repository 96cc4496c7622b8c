// The CRC-32 a zip archive records for each entry, and the check of an entry's bytes against it.
// LibTorch's zip reader skips CRC checks (miniz built with MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS), so a
// damaged byte inside an archive goes unnoticed; where the bytes are code about to run (an AOTInductor
// package's shared library), that is checked here.
#pragma once
#include <caffe2/serialize/read_adapter_interface.h>

#include <cstdint>
#include <map>
#include <string>

namespace tn {

// CRC-32 (zip's: polynomial 0xEDB88320) of n bytes, continuing from crc (0 to start).
uint32_t Crc32(const void* data, size_t n, uint32_t crc = 0);

// Entry name → recorded CRC-32, from the archive's central directory (zip64 included). Throws
// std::runtime_error when the directory cannot be found or runs past the file.
std::map<std::string, uint32_t> ZipCrcs(const caffe2::serialize::ReadAdapterInterface& file);

}  // namespace tn

#include "aoti_archive.h"

#include <caffe2/serialize/inline_container.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <vector>

#include "errors.h"
#include "files.h"
#include "zip_crc.h"

namespace tn {

namespace fs = std::filesystem;
using caffe2::serialize::PyTorchStreamReader;

std::string TempBase() {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  if (ec) base = "/tmp";
  fs::path absolute = fs::absolute(base, ec);  // so that a later process.chdir() changes nothing
  return (ec ? base : absolute).string();
}

TempFolder::TempFolder(const std::string& base, const std::string& prefix) {
  std::string pattern = (fs::path(base) / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    int e = errno;
    throw PackageError("cannot make a temporary folder under " + base + " to unpack the package: " + ErrnoText(e));
  }
  path_ = pattern;
}

TempFolder::~TempFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);  // nothing to do about a failure in a destructor
}

namespace {

std::unique_ptr<PyTorchStreamReader> OpenArchive(const std::shared_ptr<FdReader>& file) {
  try {
    return std::make_unique<PyTorchStreamReader>(std::static_pointer_cast<caffe2::serialize::ReadAdapterInterface>(file));
  } catch (...) {
    throw PackageError("not a valid AOTInductor package (corrupt or truncated zip archive): " + CaptureCurrent().message);
  }
}

// A record name is written below the unpacking folder, so it must stay there: relative, no "..".
bool SafeRecordName(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  for (const auto& part : fs::path(name)) {
    if (part == "..") return false;
  }
  return true;
}

// One record being unpacked; errors name the record, since the folder goes with the failure.
class OutFile {
 public:
  OutFile(const fs::path& path, const std::string& record) : record_(record) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) Fail(errno);
  }
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  void Write(const char* data, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, data, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) Fail(w < 0 ? errno : EIO);
      data += w;
      n -= static_cast<size_t>(w);
    }
  }
  void Close() {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail(errno);
  }

 private:
  [[noreturn]] void Fail(int e) const {
    throw PackageError("cannot unpack " + record_ + " from the package into the temporary folder: " + ErrnoText(e));
  }
  int fd_ = -1;
  std::string record_;
};

bool EndsWith(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

std::vector<std::string> RecordsOf(PyTorchStreamReader& reader) {
  try {
    return reader.getAllRecords();
  } catch (...) {
    throw PackageError("not a valid AOTInductor package (corrupt zip archive): " + CaptureCurrent().message);
  }
}

// The string value of "key" in a flat JSON object as Python's json.dump writes it; empty when absent.
std::string JsonString(const std::string& json, const std::string& key) {
  size_t at = json.find('"' + key + '"');
  if (at == std::string::npos) return "";
  at = json.find_first_not_of(" \t\r\n", at + key.size() + 2);
  if (at == std::string::npos || json[at] != ':') return "";
  at = json.find_first_not_of(" \t\r\n", at + 1);
  if (at == std::string::npos || json[at] != '"') return "";
  size_t end = json.find('"', at + 1);
  return end == std::string::npos ? "" : json.substr(at + 1, end - at - 1);
}

}  // namespace

struct PackageArchive::Open {
  std::shared_ptr<FdReader> file;
  std::unique_ptr<PyTorchStreamReader> reader;
  std::vector<std::string> records;  // without the archive's own top folder, as the reader names them
};

PackageArchive::PackageArchive(const std::string& path) : open_(std::make_unique<Open>()) {
  open_->file = OpenForReading<PackageError>(path);
  if (open_->file->size() == 0) throw PackageError("the file is empty (not an AOTInductor package)");
  unsigned char head[4] = {0, 0, 0, 0};
  if (open_->file->read(0, head, 4, "") < 4 || !(head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)) {
    throw PackageError(
        "not an AOTInductor package (aoti_compile_and_package writes a zip archive; this file does not start with a zip header)");
  }
  open_->reader = OpenArchive(open_->file);
  open_->records = RecordsOf(*open_->reader);
}

PackageArchive::~PackageArchive() = default;

std::set<std::string> PackageArchive::Models() const {
  const std::string prefix = "data/aotinductor/";
  std::set<std::string> models;
  for (const auto& name : open_->records) {
    if (name.rfind(prefix, 0) != 0) continue;
    auto slash = name.find('/', prefix.size());
    if (slash != std::string::npos) models.insert(name.substr(prefix.size(), slash - prefix.size()));
  }
  return models;
}

std::string PackageArchive::ModelDevice(const std::string& modelName) const {
  const std::string ours = "data/aotinductor/" + modelName + "/";
  for (const auto& name : open_->records) {
    if (name.rfind(ours, 0) != 0 || !EndsWith(name, "wrapper_metadata.json")) continue;
    try {
      auto [data, size] = open_->reader->getRecord(name);
      return JsonString(std::string(static_cast<const char*>(data.get()), size), "AOTI_DEVICE_KEY");
    } catch (...) {
      return "";  // CheckRecords names the damage
    }
  }
  return "";
}

size_t PackageArchive::CheckRecords(const std::string& modelName, const TempFolder* into) const {
  std::map<std::string, uint32_t> crcs;  // by record name: the directory's names start with the top folder
  try {
    for (const auto& [name, crc] : ZipCrcs(*open_->file)) {
      auto slash = name.find('/');
      if (slash != std::string::npos) crcs[name.substr(slash + 1)] = crc;
    }
  } catch (const PackageError&) {
    throw;
  } catch (const std::exception& e) {
    throw PackageError(std::string("not a valid AOTInductor package (corrupt zip archive): ") + e.what());
  }
  PyTorchStreamReader& reader = *open_->reader;
  // LibTorch's own unpacking (older loaders) takes every name that starts with the model's folder without
  // its slash (model "m" takes "m2/…" too), so without `into` those are checked as well.
  const std::string ours = "data/aotinductor/" + modelName + "/", used = into ? ours : ours.substr(0, ours.size() - 1);
  const std::string constants = "data/constants/";
  constexpr size_t kChunk = size_t{4} << 20;
  std::vector<char> buffer(kChunk);
  std::set<std::string> seen;
  size_t libraries = 0;
  for (const auto& name : open_->records) {
    if (name.rfind(used, 0) != 0 && name.rfind(constants, 0) != 0) continue;  // not read by the loader
    if (EndsWith(name, "/")) continue;                                        // a folder entry
    if (!SafeRecordName(name)) {
      throw PackageError("not a valid AOTInductor package: it holds a file named '" + name + "', outside the package");
    }
    if (!seen.insert(name).second) throw PackageError("not a valid AOTInductor package: it holds two files named " + name);
    auto expected = crcs.find(name);
    if (expected == crcs.end()) throw PackageError("not a valid AOTInductor package: " + name + " is missing from the zip directory");
    std::unique_ptr<OutFile> out = into ? std::make_unique<OutFile>(fs::path(into->path()) / name, name) : nullptr;
    uint32_t crc = 0;
    try {
      auto chunks = reader.createChunkReaderIter(name, reader.getRecordSize(name), kChunk);
      for (size_t n; (n = chunks.next(buffer.data())) > 0;) {
        crc = Crc32(buffer.data(), n, crc);
        if (out) out->Write(buffer.data(), n);
      }
    } catch (const PackageError&) {
      throw;
    } catch (...) {
      throw PackageError("not a valid AOTInductor package: " + name + " cannot be read (" + CaptureCurrent().message + ")");
    }
    if (out) out->Close();
    if (crc != expected->second) {
      throw PackageError("not a valid AOTInductor package: " + std::string(EndsWith(name, ".so") ? "its compiled library " : "") + name +
                         " is damaged (its CRC-32 does not match the archive's)");
    }
    if (name.rfind(ours, 0) == 0 && EndsWith(name, ".so")) ++libraries;
  }
  return libraries;
}

}  // namespace tn

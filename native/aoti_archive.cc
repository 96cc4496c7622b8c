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

TempFolder::TempFolder(const std::string& prefix) {
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);  // $TMPDIR, else /tmp
  if (ec) base = "/tmp";
  std::string pattern = (base / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw PackageError("cannot make a temporary folder under " + base.string() + " to unpack the package: " + ErrnoText(errno));
  }
  path_ = pattern;
}

TempFolder::~TempFolder() {
  std::error_code ec;
  fs::remove_all(path_, ec);  // nothing to do about a failure in a destructor
}

namespace {

std::unique_ptr<PyTorchStreamReader> OpenArchive(const std::string& path) {
  auto adapter = OpenForReading<PackageError>(path);
  try {
    return std::make_unique<PyTorchStreamReader>(std::static_pointer_cast<caffe2::serialize::ReadAdapterInterface>(adapter));
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

class OutFile {
 public:
  OutFile(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) throw PackageError("cannot write " + path.string() + " while unpacking the package: " + ErrnoText(errno));
    path_ = path.string();
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
      if (w <= 0) throw PackageError("cannot write " + path_ + " while unpacking the package: " + ErrnoText(errno));
      data += w;
      n -= static_cast<size_t>(w);
    }
  }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace

std::set<std::string> ModelsIn(const std::string& path) {
  auto adapter = OpenForReading<PackageError>(path);
  if (adapter->size() == 0) throw PackageError("the file is empty (not an AOTInductor package)");
  unsigned char head[4] = {0, 0, 0, 0};
  if (adapter->read(0, head, 4, "") < 4 || !(head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)) {
    throw PackageError(
        "not an AOTInductor package (aoti_compile_and_package writes a zip archive; this file does not start with a zip header)");
  }
  // PyTorchStreamReader drops the archive's own top folder from record names.
  const std::string prefix = "data/aotinductor/";
  std::set<std::string> models;
  for (const auto& name : OpenArchive(path)->getAllRecords()) {
    if (name.rfind(prefix, 0) != 0) continue;
    auto slash = name.find('/', prefix.size());
    if (slash != std::string::npos) models.insert(name.substr(prefix.size(), slash - prefix.size()));
  }
  return models;
}

void CheckRecords(const std::string& path, const std::string& modelName, const TempFolder* into) {
  std::map<std::string, uint32_t> crcs;  // by record name: the directory's names start with the top folder
  try {
    for (const auto& [name, crc] : ZipCrcs(*OpenForReading<PackageError>(path))) {
      auto slash = name.find('/');
      if (slash != std::string::npos) crcs[name.substr(slash + 1)] = crc;
    }
  } catch (const PackageError&) {
    throw;
  } catch (const std::exception& e) {
    throw PackageError(std::string("not a valid AOTInductor package (corrupt zip archive): ") + e.what());
  }
  auto reader = OpenArchive(path);
  const std::string models = "data/aotinductor/", ours = models + modelName + "/";
  constexpr size_t kChunk = size_t{4} << 20;
  std::vector<char> buffer(kChunk);
  for (const auto& name : reader->getAllRecords()) {
    if (name.rfind(models, 0) == 0 && name.rfind(ours, 0) != 0) continue;  // another model's
    if (!SafeRecordName(name))
      throw PackageError("not a valid AOTInductor package: it holds a file named '" + name + "', outside the package");
    auto expected = crcs.find(name);
    if (expected == crcs.end()) throw PackageError("not a valid AOTInductor package: " + name + " is missing from the zip directory");
    std::unique_ptr<OutFile> out = into ? std::make_unique<OutFile>(fs::path(into->path()) / name) : nullptr;
    uint32_t crc = 0;
    try {
      auto chunks = reader->createChunkReaderIter(name, reader->getRecordSize(name), kChunk);
      for (size_t n; (n = chunks.next(buffer.data())) > 0;) {
        crc = Crc32(buffer.data(), n, crc);
        if (out) out->Write(buffer.data(), n);
      }
    } catch (const PackageError&) {
      throw;
    } catch (...) {
      throw PackageError("not a valid AOTInductor package: " + name + " cannot be read (" + CaptureCurrent().message + ")");
    }
    if (crc != expected->second) {
      bool library = name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0;
      throw PackageError("not a valid AOTInductor package: " + std::string(library ? "its compiled library " : "") + name +
                         " is damaged (its CRC-32 does not match the archive's)");
    }
  }
}

}  // namespace tn

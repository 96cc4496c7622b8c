// An AOTInductor package as a zip archive, before LibTorch's loader sees it: which models it holds, and
// each record the loader will use checked against the CRC-32 the archive records for it (LibTorch's zip
// reader checks none), unpacked into a folder of torchnode's own when the loader can take one.
#pragma once
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

namespace tn {

// A package that is not one, or is damaged: its message names what is wrong.
struct PackageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A new folder under $TMPDIR (mkdtemp), removed with all it holds when this is destroyed.
class TempFolder {
 public:
  explicit TempFolder(const std::string& prefix);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The archive's models: the names under data/aotinductor/. Throws PackageError for a file that is not a
// readable zip archive.
std::set<std::string> ModelsIn(const std::string& path);

// Reads every record of the package except other models' folders, checking each against its CRC-32, and
// writes them under `into` (the archive's layout, without its top folder) when it is not null. Throws
// PackageError naming the first damaged or unsafe record.
void CheckRecords(const std::string& path, const std::string& modelName, const TempFolder* into);

}  // namespace tn

// An AOTInductor package as a zip archive, before LibTorch's loader sees it: which models it holds, and
// each record the loader will use checked against the CRC-32 the archive records for it (LibTorch's zip
// reader checks none), and for LibTorch 2.13's loader, which takes a folder, unpacked into one of
// torchnode's own as it is checked (native/aoti.cc says which packages).
#pragma once
#include <cstddef>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>

namespace tn {

// A package that is not one, or is damaged: its message names what is wrong.
struct PackageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The folder temporary files go in: $TMPDIR (or TMP, TEMP, TEMPDIR), else /tmp, made absolute. Read it on
// the JS thread: getenv on another thread races a write to process.env.
std::string TempBase();

// A new folder under `base` (mkdtemp), removed with all it holds when this is destroyed.
class TempFolder {
 public:
  TempFolder(const std::string& base, const std::string& prefix);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The package file, opened once: torchnode's checks all read the same open file.
class PackageArchive {
 public:
  // Throws PackageError for a file that cannot be opened or is not a readable zip archive.
  explicit PackageArchive(const std::string& path);
  ~PackageArchive();
  PackageArchive(const PackageArchive&) = delete;
  PackageArchive& operator=(const PackageArchive&) = delete;

  // The names under data/aotinductor/.
  std::set<std::string> Models() const;

  // The device a model was compiled for ("cpu", "cuda", …) as its wrapper_metadata.json records it; empty
  // when the package does not say. Not yet checked against its CRC-32 (CheckRecords does that).
  std::string ModelDevice(const std::string& modelName) const;

  // Reads each record LibTorch's loader uses for `modelName` (its folder under data/aotinductor/, and
  // data/constants/), checking it against its CRC-32, and writes it under `into` (the archive's layout,
  // without its top folder) when that is not null. Returns how many shared libraries (.so) the model's
  // own folder holds. Throws PackageError naming the first damaged, duplicated or unsafe record.
  size_t CheckRecords(const std::string& modelName, const TempFolder* into) const;

 private:
  struct Open;
  std::unique_ptr<Open> open_;
};

}  // namespace tn

// Reading files for LibTorch's zip reader (serialize, jit): one pread-based adapter and one way to open
// a regular file, with the caller's error type so each keeps its own messages and handling.
#pragma once
#include <caffe2/serialize/read_adapter_interface.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

namespace tn {

inline std::string ErrnoText(int e) { return std::system_category().message(e); }

// pread-based adapter: never throws (a short read is how miniz learns of an error). Owns the fd.
class FdReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  FdReader(int fd, size_t size) : fd_(fd), size_(size) {}
  ~FdReader() override { ::close(fd_); }
  size_t size() const override { return size_; }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= size_) return 0;
    if (n > size_ - pos) n = size_ - pos;
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(pos + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

 private:
  int fd_;
  size_t size_;
};

// Opens path for reading; a missing file, a directory or another non-regular file throws Error(message).
template <typename Error>
std::shared_ptr<FdReader> OpenForReading(const std::string& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever; it is refused
  // below. Reads use pread on a regular file, which the flag does not affect.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error("cannot open the file: " + ErrnoText(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    throw Error("cannot stat the file: " + ErrnoText(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(S_ISDIR(st.st_mode) ? "it is a directory, not a file" : "it is not a regular file");
  }
  return std::make_shared<FdReader>(fd, static_cast<size_t>(st.st_size));
}

}  // namespace tn

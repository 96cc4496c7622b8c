// torch.save / torch.load files in PyTorch's own zip format (what Python's torch.save writes):
//
//   archive/data.pkl             the pickle (written and read by lib/pickle.ts + lib/serialize.ts)
//   archive/.format_version      "1"
//   archive/.storage_alignment   "64"
//   archive/byteorder            "little"
//   archive/data/<key>           the bytes of each storage, 64-byte aligned
//   archive/version              "3\n"                 (PyTorchStreamWriter::writeEndOfFile)
//   archive/.data/serialization_id                     (idem)
//
// The pickle is made and read in JavaScript; this file does the zip container (LibTorch's
// caffe2::serialize::PyTorchStreamWriter / PyTorchStreamReader) and the tensors' bytes:
//   serTensorMeta(t)           what the pickle needs about a tensor and its storage
//   serSave(tmp, path, pkl, storageTensors)          writes tmp, fsyncs, renames it to path
//   serSaveAsync(...)          the same off the JS thread (a Promise)
//   serRead(path)              {pkl: Buffer, archive: External}: every data/* record read into memory
//   serReadAsync(path)         the same off the JS thread (a Promise)
//   serRebuild(archive, key, dtype, nbytes, device?, offset, size, stride, requiresGrad)
//                              a tensor over a record's bytes (records are shared, so views stay views)
//   serRelease(archive)        drops the records now (tensors keep what they use)
// Nothing here trusts the file: every size, offset and stride is checked before a tensor is made, and
// LibTorch's writer/reader are driven so that none of their error paths can throw from a destructor.
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <c10/util/Exception.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "async.h"
#include "errors.h"
#include "files.h"
#include "tagged_external.h"

namespace tn {
namespace {

// An error with a message for users (the JS side prefixes the file name).
struct SerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- reading ----

struct Archive {
  std::string pkl;
  std::unordered_map<std::string, c10::Storage> records;              // key of data/<key> -> CPU bytes
  std::map<std::pair<std::string, std::string>, c10::Storage> moved;  // (key, device) -> that storage there
};

// What a JS External holds: a shared archive (the async worker hands it over).
struct ArchiveBox {
  std::shared_ptr<Archive> archive;
};
const TaggedExternal<ArchiveBox> kArchives{0x7365726172636876ULL};

// Reads record `name`. torch files store records uncompressed and apart, so together they cannot hold
// more bytes than the file: `budget` (the file's size, less what was read) turns a corrupt size field,
// or records that overlap to multiply the file (a zip bomb), into an error instead of an allocation.
c10::Storage ReadRecord(caffe2::serialize::PyTorchStreamReader& reader, const std::string& name, size_t& budget) {
  size_t size = reader.getRecordSize(name);
  if (size > budget)
    throw SerError("record '" + name + "' claims " + std::to_string(size) + " bytes, more than the file holds (corrupt file)");
  budget -= size;
  auto [data, n] = reader.getRecord(name);
  if (n != size) throw SerError("record '" + name + "' could not be read (corrupt file)");
  return c10::Storage(c10::Storage::use_byte_size_t(), n, std::move(data), /*allocator=*/nullptr, /*resizable=*/false);
}

std::shared_ptr<Archive> ReadArchiveImpl(const std::string& path) {
  auto adapter = OpenForReading<SerError>(path);
  size_t fileSize = adapter->size();
  unsigned char head[4] = {0, 0, 0, 0};
  size_t got = adapter->read(0, head, 4, "");
  if (fileSize == 0) throw SerError("the file is empty (not a torch file)");
  if (got < 4 || !(head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)) {
    if (got >= 2 && head[0] == 0x80 && head[1] <= 5) {
      throw SerError(
          "not a zip-based torch file: this looks like PyTorch's legacy format (torch.save before 1.6, or "
          "_use_new_zipfile_serialization=False), which torchnode does not read; re-save it with a current PyTorch");
    }
    throw SerError("not a torch file (PyTorch files are zip archives; this one does not start with a zip header)");
  }
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(adapter);
  } catch (const c10::Error& e) {
    throw SerError(std::string("not a valid torch file (corrupt or truncated zip archive): ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw SerError(std::string("not a valid torch file (corrupt or truncated zip archive): ") + e.what());
  }
  auto archive = std::make_shared<Archive>();
  size_t budget = fileSize;
  try {
    std::vector<std::string> names = reader->getAllRecords();
    bool hasPkl = false, isScript = false;
    for (const auto& n : names) {
      if (n == "data.pkl") hasPkl = true;
      if (n == "constants.pkl" || n.rfind("code/", 0) == 0) isScript = true;
    }
    if (isScript) throw SerError("this is a TorchScript archive (torch.jit.save), not a torch.save file: load it with torch.jit.load");
    if (!hasPkl) throw SerError("not a torch.save file: the archive has no data.pkl");
    for (const auto& n : names) {
      if (n == "byteorder") {
        c10::Storage s = ReadRecord(*reader, n, budget);
        std::string order = s.nbytes() ? std::string(static_cast<const char*>(s.data()), s.nbytes()) : std::string();
        if (order == "big") throw SerError("the file was written on a big-endian machine; torchnode reads little-endian files only");
        if (order != "little") throw SerError("corrupt byteorder record (corrupt file)");
      }
    }
    c10::Storage pkl = ReadRecord(*reader, "data.pkl", budget);
    if (pkl.nbytes()) archive->pkl.assign(static_cast<const char*>(pkl.data()), pkl.nbytes());
    for (const auto& n : names) {
      if (n.rfind("data/", 0) == 0 && n.size() > 5) archive->records.emplace(n.substr(5), ReadRecord(*reader, n, budget));
    }
  } catch (const SerError&) {
    throw;
  } catch (const c10::Error& e) {
    throw SerError(std::string("corrupt torch file: ") + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw SerError("corrupt torch file, or not enough memory to read it (std::bad_alloc)");
  } catch (const std::exception& e) {
    throw SerError(std::string("corrupt torch file: ") + e.what());
  }
  return archive;
}

Napi::Value ArchiveResult(Napi::Env env, std::shared_ptr<Archive> archive) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("pkl", Napi::Buffer<char>::Copy(env, archive->pkl.data(), archive->pkl.size()));
  archive->pkl.clear();
  archive->pkl.shrink_to_fit();
  out.Set("archive", kArchives.Make(env, new ArchiveBox{std::move(archive)}));
  return out;
}

Archive& ArchiveArg(const Args& a, size_t i) {
  ArchiveBox& box = kArchives.Unwrap(a, i, "an archive from serRead");
  if (!box.archive) ThrowTorch(a.env(), ErrorKind::Torch, "the archive was already released");
  return *box.archive;
}

// serRead(path) -> {pkl, archive}
Napi::Value SerRead(const Napi::CallbackInfo& info) {
  Args a(info);
  return ArchiveResult(a.env(), ReadArchiveImpl(a.string(0)));
}

class ReadWorker final : public PromiseWorker {
 public:
  ReadWorker(Napi::Env env, std::string path) : PromiseWorker(env, "torchnode.load"), path_(std::move(path)) {}

 private:
  void Run() override { archive_ = ReadArchiveImpl(path_); }
  Napi::Value Result(Napi::Env env) override { return ArchiveResult(env, std::move(archive_)); }
  std::string path_;
  std::shared_ptr<Archive> archive_;
};

Napi::Value SerReadAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* w = new ReadWorker(a.env(), a.string(0));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value SerRelease(const Napi::CallbackInfo& info) {
  Args a(info);
  kArchives.Unwrap(a, 0, "an archive from serRead").archive.reset();
  return a.env().Undefined();
}

// A checked int64 argument: a safe integer within [lo, 2^53].
int64_t CheckedInt(const Args& a, size_t i, int64_t lo, const char* what) {
  Napi::Value v = a[i];
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d != std::trunc(d) || d < static_cast<double>(lo) || d > 9007199254740992.0) {
    throw SerError(std::string("corrupt tensor record: bad ") + what);
  }
  return static_cast<int64_t>(d);
}

std::vector<int64_t> CheckedList(const Args& a, size_t i, const char* what) {
  if (!a[i].IsArray()) throw SerError(std::string("corrupt tensor record: bad ") + what);
  Napi::Array arr = a[i].As<Napi::Array>();
  if (arr.Length() > 64) throw SerError(std::string("corrupt tensor record: ") + what + " has more than 64 dimensions");
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(d) || d != std::trunc(d) || d < 0 || d > 9007199254740992.0)
      throw SerError(std::string("corrupt tensor record: bad ") + what);
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

// serRebuild(archive, key, dtypeCode, nbytes, device|undefined, offset, size, stride, requiresGrad)
Napi::Value SerRebuild(const Napi::CallbackInfo& info) {
  Args a(info);
  Archive& ar = ArchiveArg(a, 0);
  std::string key = a.string(1);
  at::ScalarType dtype = a.dtype(2);
  int64_t nbytes = CheckedInt(a, 3, 0, "storage size");
  std::optional<c10::Device> device;
  if (!a.missing(4)) {
    std::string d = a.string(4);
    try {
      device = c10::Device(d);
    } catch (const c10::Error&) {
      throw SerError("invalid device '" + d + "'");
    }
  }
  int64_t offset = CheckedInt(a, 5, 0, "storage offset");
  std::vector<int64_t> size = CheckedList(a, 6, "size");
  std::vector<int64_t> stride = CheckedList(a, 7, "stride");
  bool requiresGrad = a.boolean(8, false);
  if (size.size() != stride.size()) throw SerError("corrupt tensor record: size and stride differ in length");

  auto it = ar.records.find(key);
  if (it == ar.records.end())
    throw SerError("the pickle refers to storage 'data/" + key + "', which the archive does not have (corrupt file)");
  c10::Storage storage = it->second;
  if (static_cast<uint64_t>(nbytes) > storage.nbytes()) {
    throw SerError("storage 'data/" + key + "' holds " + std::to_string(storage.nbytes()) + " bytes but the pickle says " +
                   std::to_string(nbytes) + " (corrupt file)");
  }
  // Bounds: the last element the view reaches must lie inside the declared storage.
  int64_t itemsize = static_cast<int64_t>(c10::elementSize(dtype));
  bool empty = false;
  for (int64_t s : size) empty = empty || s == 0;
  if (!empty) {
    __int128 last = offset;
    for (size_t d = 0; d < size.size(); ++d) last += static_cast<__int128>(size[d] - 1) * stride[d];
    if ((last + 1) * itemsize > nbytes) {
      throw SerError("a tensor of the pickle reaches past the end of its storage 'data/" + key + "' (corrupt file)");
    }
  } else if (static_cast<__int128>(offset) * itemsize > nbytes) {
    throw SerError("a tensor of the pickle starts past the end of its storage 'data/" + key + "' (corrupt file)");
  }
  if (device && !device->is_cpu()) {
    auto mk = std::make_pair(key, device->str());
    auto m = ar.moved.find(mk);
    if (m == ar.moved.end()) {
      at::Tensor bytes =
          at::empty({0}, at::TensorOptions().dtype(at::kByte)).set_(storage, 0, {static_cast<int64_t>(storage.nbytes())}, {1});
      c10::Storage there = bytes.to(*device).storage();
      m = ar.moved.emplace(mk, there).first;
    }
    storage = m->second;
  }
  at::Tensor t = at::empty({0}, at::TensorOptions().dtype(dtype).device(storage.device())).set_(storage, offset, size, stride);
  if (requiresGrad) t.set_requires_grad(true);
  return Wrap(a.env(), std::move(t));
}

// ---- saving ----

// serTensorMeta(t) -> [storageId, storageNbytes, offset, size, stride, dtypeName, device, requiresGrad]
Napi::Value SerTensorMeta(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  Napi::Env env = a.env();
  if (t.layout() != at::kStrided) ThrowTorch(env, ErrorKind::NotImplemented, "torch.save: only dense (strided) tensors can be saved");
  if (t.is_quantized()) ThrowTorch(env, ErrorKind::NotImplemented, "torch.save: quantized tensors cannot be saved");
  if (t.is_meta()) ThrowTorch(env, ErrorKind::NotImplemented, "torch.save: meta tensors have no data to save");
  if (t.is_neg() || t.is_conj())
    ThrowTorch(env, ErrorKind::NotImplemented, "torch.save: resolve the tensor's negative/conjugate bit first (clone it)");
  if (!t.has_storage()) ThrowTorch(env, ErrorKind::NotImplemented, "torch.save: this tensor has no storage");
  const c10::Storage& s = t.storage();
  char id[32];
  std::snprintf(id, sizeof id, "%llx", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(s.unsafeGetStorageImpl())));
  auto list = [&](c10::IntArrayRef v) {
    Napi::Array arr = Napi::Array::New(env, v.size());
    for (size_t i = 0; i < v.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(v[i])));
    return arr;
  };
  Napi::Array out = Napi::Array::New(env, 8);
  out.Set(0u, Napi::String::New(env, id));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(s.nbytes())));
  out.Set(2u, Napi::Number::New(env, static_cast<double>(t.storage_offset())));
  out.Set(3u, list(t.sizes()));
  out.Set(4u, list(t.strides()));
  out.Set(5u, Napi::String::New(env, DtypeName(t.scalar_type())));
  out.Set(6u, Napi::String::New(env, t.device().str()));
  out.Set(7u, Napi::Boolean::New(env, t.requires_grad()));
  return out;
}

struct SaveJob {
  std::string tmp, path, pkl;
  std::vector<c10::Storage> storages;
};

void WriteAll(int fd, const void* buf, size_t n, int& err) {
  const char* p = static_cast<const char*>(buf);
  while (n > 0 && !err) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void SaveImpl(const SaveJob& job) {
  int fd = ::open(job.tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw SerError("cannot create '" + job.tmp + "': " + ErrnoText(errno));
  int werr = 0;
  auto cleanup = [&]() {
    ::close(fd);
    ::unlink(job.tmp.c_str());
  };
  {
    // The write callback never reports failure to miniz (a short count would make LibTorch throw from
    // inside C code); the first errno is kept and raised once the writer is done.
    std::unique_ptr<caffe2::serialize::PyTorchStreamWriter> writer;
    try {
      writer = std::make_unique<caffe2::serialize::PyTorchStreamWriter>([fd, &werr](const void* buf, size_t n) -> size_t {
        WriteAll(fd, buf, n, werr);
        return n;
      });
      static const char kEmpty[1] = {0};
      writer->writeRecord("data.pkl", job.pkl.data(), job.pkl.size());
      writer->writeRecord(".format_version", "1", 1);
      writer->writeRecord(".storage_alignment", "64", 2);
      writer->writeRecord("byteorder", "little", 6);
      for (size_t i = 0; i < job.storages.size(); ++i) {
        const c10::Storage& s = job.storages[i];
        size_t n = s.nbytes();
        at::Tensor cpu;
        const void* data = kEmpty;
        if (n > 0) {
          if (s.device().is_cpu()) {
            data = s.data();
          } else {
            cpu = at::empty({0}, at::TensorOptions().dtype(at::kByte).device(s.device())).set_(s, 0, {static_cast<int64_t>(n)}, {1}).cpu();
            data = cpu.const_data_ptr();
          }
          if (data == nullptr) throw SerError("a storage has no data");
        }
        writer->writeRecord("data/" + std::to_string(i), data, n);
        if (werr) break;
      }
      if (!werr) writer->writeEndOfFile();
    } catch (...) {
      // Finish the writer here so its destructor has nothing left to do (it would otherwise finalize,
      // and a throw from a destructor terminates the process).
      if (writer && !writer->finalized()) {
        try {
          writer->writeEndOfFile();
        } catch (...) {
        }
      }
      writer.reset();
      cleanup();
      throw;
    }
    if (!writer->finalized()) {
      try {
        writer->writeEndOfFile();
      } catch (...) {
      }
    }
  }
  if (werr) {
    cleanup();
    throw SerError("cannot write '" + job.tmp + "': " + ErrnoText(werr));
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    cleanup();
    throw SerError("cannot write '" + job.tmp + "' (fsync): " + ErrnoText(e));
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(job.tmp.c_str());
    throw SerError("cannot write '" + job.tmp + "' (close): " + ErrnoText(e));
  }
  if (::rename(job.tmp.c_str(), job.path.c_str()) != 0) {
    int e = errno;
    ::unlink(job.tmp.c_str());
    throw SerError("cannot replace '" + job.path + "': " + ErrnoText(e));
  }
  // Make the rename itself durable (best effort).
  size_t slash = job.path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : job.path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

SaveJob JobFrom(const Args& a) {
  SaveJob job;
  job.tmp = a.string(0);
  job.path = a.string(1);
  if (!a[2].IsBuffer()) a.fail(2, "a Buffer (the pickle)");
  auto buf = a[2].As<Napi::Buffer<char>>();
  job.pkl.assign(buf.Data(), buf.Length());
  for (const at::Tensor& t : a.tensorList(3)) job.storages.push_back(t.storage());
  return job;
}

// serSave(tmpPath, path, pkl, storageTensors): storage i is storageTensors[i]'s storage.
Napi::Value SerSave(const Napi::CallbackInfo& info) {
  Args a(info);
  SaveImpl(JobFrom(a));
  return a.env().Undefined();
}

class SaveWorker final : public PromiseWorker {
 public:
  SaveWorker(Napi::Env env, SaveJob job) : PromiseWorker(env, "torchnode.save"), job_(std::move(job)) {}

 private:
  void Run() override { SaveImpl(job_); }
  Napi::Value Result(Napi::Env env) override {
    job_.storages.clear();
    return env.Undefined();
  }
  SaveJob job_;
};

Napi::Value SerSaveAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* w = new SaveWorker(a.env(), JobFrom(a));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void RegisterSerialize(Napi::Env env, Napi::Object exports) {
  Export<SerTensorMeta>(env, exports, "serTensorMeta");
  Export<SerSave>(env, exports, "serSave");
  Export<SerSaveAsync>(env, exports, "serSaveAsync");
  Export<SerRead>(env, exports, "serRead");
  Export<SerReadAsync>(env, exports, "serReadAsync");
  Export<SerRebuild>(env, exports, "serRebuild");
  Export<SerRelease>(env, exports, "serRelease");
}

}  // namespace tn

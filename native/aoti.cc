// AOTInductor packages (.pt2 from Python's torch._inductor.aoti_compile_and_package): loading one with
// LibTorch's AOTIModelPackageLoader, running it, reading its call spec and metadata, and swapping its
// constants (weights).
//
//   aotiLoad(path, modelName, runSingleThreaded, numRunners, deviceIndex) / aotiLoadAsync(...)
//   aotiRun(p, tensors) / aotiRunAsync(p, tensors)       flat tensors in, flat tensors out
//   aotiCallSpec(p) -> [in, out], aotiMetadata(p), aotiConstantFqns(p)
//   aotiLoadConstants(p, names, tensors, checkFullUpdate, userManaged), aotiDispose(p)
//
// The package is checked before LibTorch sees it (a zip holding the model asked for), so a wrong or
// damaged file is a message naming what is wrong; what the loader itself refuses (a package for another
// device, a shared library this LibTorch cannot load) comes back as its error, never a crash.
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>

#include <algorithm>
#include <map>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <tuple>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "async.h"
#include "errors.h"
#include "files.h"
#include "handle.h"
#include "tagged_external.h"
#include "zip_crc.h"

namespace tn {
namespace {

using torch::inductor::AOTIModelPackageLoader;

struct PackageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The loader extracts its package into a temporary folder (/tmp/aotinductor_*) that only its destructor
// removes. Node frees a package's External at a normal exit, but process.exit() frees none, so every live
// box is listed here and an atexit handler releases their loaders. The handler is registered at the first
// load, so it runs before the destructors of the static objects made until then (LibTorch's own). A loader
// that only a worker holds at that moment (a load not yet handed to JS, a run in flight) keeps its folder.
struct PackageBox {
  std::shared_ptr<AOTIModelPackageLoader> loader;  // null once disposed; a running worker holds its own
  explicit PackageBox(std::shared_ptr<AOTIModelPackageLoader> l);
  ~PackageBox();
  PackageBox(const PackageBox&) = delete;
  PackageBox& operator=(const PackageBox&) = delete;
};

struct LiveBoxes {
  std::mutex mutex;
  std::set<PackageBox*> boxes;
};

LiveBoxes& Live() {
  static LiveBoxes* live = [] {
    std::atexit([] {
      std::lock_guard<std::mutex> lock(Live().mutex);
      for (PackageBox* box : Live().boxes) box->loader.reset();
    });
    return new LiveBoxes;  // never destroyed: a box may still leave it while the process ends
  }();
  return *live;
}

PackageBox::PackageBox(std::shared_ptr<AOTIModelPackageLoader> l) : loader(std::move(l)) {
  std::lock_guard<std::mutex> lock(Live().mutex);
  Live().boxes.insert(this);
}

PackageBox::~PackageBox() {
  std::lock_guard<std::mutex> lock(Live().mutex);
  Live().boxes.erase(this);
}

const TaggedExternal<PackageBox> kPackages{0x616f7469706b6721ULL};

Napi::Value WrapPackage(Napi::Env env, std::shared_ptr<AOTIModelPackageLoader> loader) {
  return kPackages.Make(env, new PackageBox(std::move(loader)));
}

const std::shared_ptr<AOTIModelPackageLoader>& PackageArg(const Args& a, size_t i) {
  PackageBox& box = kPackages.Unwrap(a, i, "an AOTInductor package handle");
  if (!box.loader) ThrowTorch(a.env(), ErrorKind::Torch, "this AOTInductor package was disposed; it can no longer be run");
  return box.loader;
}

struct LoadRequest {
  std::string path, modelName;
  bool runSingleThreaded = false;
  size_t numRunners = 1;
  c10::DeviceIndex deviceIndex = -1;
};

LoadRequest RequestOf(const Args& a) {
  LoadRequest r;
  r.path = a.string(0);
  r.modelName = a.string(1);
  r.runSingleThreaded = a.boolean(2, false);
  int64_t runners = a.int64(3);
  if (runners < 1) a.fail(3, "a positive number of runners");
  r.numRunners = static_cast<size_t>(runners);
  r.deviceIndex = static_cast<c10::DeviceIndex>(a.int64(4));
  return r;
}

// The archive's models: the names under data/aotinductor/ (PyTorchStreamReader drops the archive's own
// top folder from record names).
std::set<std::string> ModelsIn(const std::string& path) {
  auto adapter = OpenForReading<PackageError>(path);
  if (adapter->size() == 0) throw PackageError("the file is empty (not an AOTInductor package)");
  unsigned char head[4] = {0, 0, 0, 0};
  if (adapter->read(0, head, 4, "") < 4 || !(head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)) {
    throw PackageError(
        "not an AOTInductor package (aoti_compile_and_package writes a zip archive; this file does not start with a zip header)");
  }
  std::vector<std::string> records;
  try {
    caffe2::serialize::PyTorchStreamReader reader(std::static_pointer_cast<caffe2::serialize::ReadAdapterInterface>(adapter));
    records = reader.getAllRecords();
  } catch (...) {
    throw PackageError("not a valid AOTInductor package (corrupt or truncated zip archive): " + CaptureCurrent().message);
  }
  const std::string prefix = "data/aotinductor/";
  std::set<std::string> models;
  for (const auto& name : records) {
    if (name.rfind(prefix, 0) != 0) continue;
    auto slash = name.find('/', prefix.size());
    if (slash != std::string::npos) models.insert(name.substr(prefix.size(), slash - prefix.size()));
  }
  return models;
}

// Checks each compiled library against the CRC-32 the archive records for it: a damaged .so would
// otherwise be dlopen'ed and run, and LibTorch's zip reader checks no CRC (zip_crc.h). Weights, being
// data, are not read here: damaged ones give wrong numbers, not a crash, and can be large.
void CheckLibraries(const std::string& path) {
  auto adapter = OpenForReading<PackageError>(path);
  std::map<std::string, uint32_t> crcs;
  try {
    crcs = ZipCrcs(*adapter);
  } catch (const std::exception& e) {
    throw PackageError(std::string("not a valid AOTInductor package (corrupt zip archive): ") + e.what());
  }
  caffe2::serialize::PyTorchStreamReader reader(std::static_pointer_cast<caffe2::serialize::ReadAdapterInterface>(adapter));
  for (const auto& name : reader.getAllRecords()) {
    if (name.size() < 3 || name.compare(name.size() - 3, 3, ".so") != 0) continue;
    // The directory names entries with the archive's top folder first ("m/data/…"); the reader drops it.
    auto expected = std::find_if(crcs.begin(), crcs.end(), [&](const auto& e) {
      auto slash = e.first.find('/');
      return slash != std::string::npos && e.first.compare(slash + 1, std::string::npos, name) == 0;
    });
    if (expected == crcs.end()) throw PackageError("not a valid AOTInductor package: " + name + " is missing from the zip directory");
    at::DataPtr data;
    size_t size = 0;
    try {
      std::tie(data, size) = reader.getRecord(name);
    } catch (...) {
      throw PackageError("not a valid AOTInductor package: its compiled library " + name + " cannot be read (" + CaptureCurrent().message +
                         ")");
    }
    if (Crc32(data.get(), size) != expected->second) {
      throw PackageError("not a valid AOTInductor package: its compiled library " + name +
                         " is damaged (its CRC-32 does not match the archive's)");
    }
  }
}

std::unique_ptr<AOTIModelPackageLoader> LoadImpl(const LoadRequest& r) {
  std::set<std::string> models = ModelsIn(r.path);
  if (models.empty()) {
    throw PackageError(
        "not an AOTInductor package: the archive has no data/aotinductor/ (a torch.export.save file, or a "
        "TorchScript or torch.save archive? compile it with torch._inductor.aoti_compile_and_package)");
  }
  if (!models.count(r.modelName)) {
    std::string names;
    for (const auto& m : models) names += (names.empty() ? "'" : ", '") + m + "'";
    throw PackageError("the package has no model '" + r.modelName + "' (it has " + names + "): pass modelName");
  }
  CheckLibraries(r.path);
  try {
    return std::make_unique<AOTIModelPackageLoader>(r.path, r.modelName, r.runSingleThreaded, r.numRunners, r.deviceIndex);
  } catch (...) {
    throw PackageError(CaptureCurrent().message);
  }
}

Napi::Value AotiLoad(const Napi::CallbackInfo& info) {
  Args a(info);
  LoadRequest r = RequestOf(a);
  try {
    return WrapPackage(a.env(), LoadImpl(r));
  } catch (const PackageError& e) {
    ThrowTorch(a.env(), ErrorKind::Torch, e.what());
  }
}

class LoadWorker final : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, LoadRequest r) : PromiseWorker(env, "torchnode.aoti.load"), request_(std::move(r)) {}

 private:
  void Run() override { loader_ = LoadImpl(request_); }
  Napi::Value Result(Napi::Env env) override { return WrapPackage(env, std::move(loader_)); }
  LoadRequest request_;
  std::shared_ptr<AOTIModelPackageLoader> loader_;
};

Napi::Value AotiLoadAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* w = new LoadWorker(a.env(), RequestOf(a));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value AotiRun(const Napi::CallbackInfo& info) {
  Args a(info);
  std::shared_ptr<AOTIModelPackageLoader> loader = PackageArg(a, 0);  // held while the arguments are read
  return WrapList(a.env(), loader->run(a.tensorList(1)));
}

// The worker shares the loader, so a dispose() while it runs frees it only when the run is done.
class RunWorker final : public PromiseWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<AOTIModelPackageLoader> loader, std::vector<at::Tensor> inputs)
      : PromiseWorker(env, "torchnode.aoti.run", RunOn::ComputeThread), loader_(std::move(loader)), inputs_(std::move(inputs)) {}

 private:
  void Run() override { outputs_ = loader_->run(inputs_); }
  Napi::Value Result(Napi::Env env) override { return WrapList(env, outputs_); }
  std::shared_ptr<AOTIModelPackageLoader> loader_;
  std::vector<at::Tensor> inputs_, outputs_;
};

Napi::Value AotiRunAsync(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* w = new RunWorker(a.env(), PackageArg(a, 0), a.tensorList(1));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Strings(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), items[i]);
  return out;
}

Napi::Value AotiCallSpec(const Napi::CallbackInfo& info) {
  Args a(info);
  return Strings(a.env(), PackageArg(a, 0)->get_call_spec());
}

Napi::Value AotiConstantFqns(const Napi::CallbackInfo& info) {
  Args a(info);
  return Strings(a.env(), PackageArg(a, 0)->get_constant_fqns());
}

Napi::Value AotiMetadata(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Object out = Napi::Object::New(a.env());
  for (const auto& [k, v] : PackageArg(a, 0)->get_metadata()) out.Set(k, v);
  return out;
}

// aotiLoadConstants(p, names, tensors, checkFullUpdate, userManaged): Python's load_constants.
Napi::Value AotiLoadConstants(const Napi::CallbackInfo& info) {
  Args a(info);
  std::shared_ptr<AOTIModelPackageLoader> loader = PackageArg(a, 0);  // held while the arguments are read
  if (!a[1].IsArray()) a.fail(1, "an array of constant names");
  Napi::Array names = a[1].As<Napi::Array>();
  std::vector<at::Tensor> tensors = a.tensorList(2);
  if (names.Length() != tensors.size()) a.fail(2, "as many tensors as names");
  std::unordered_map<std::string, at::Tensor> constants;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    if (!names.Get(i).IsString()) a.fail(1, "an array of constant names");
    constants[names.Get(i).As<Napi::String>().Utf8Value()] = tensors[i];
  }
  loader->load_constants(constants, /*use_inactive=*/false, a.boolean(3, false), a.boolean(4, false));
  return a.env().Undefined();
}

Napi::Value AotiDispose(const Napi::CallbackInfo& info) {
  Args a(info);
  kPackages.Unwrap(a, 0, "an AOTInductor package handle").loader.reset();
  return a.env().Undefined();
}

}  // namespace

void RegisterAoti(Napi::Env env, Napi::Object exports) {
  Export<AotiLoad>(env, exports, "aotiLoad");
  Export<AotiLoadAsync>(env, exports, "aotiLoadAsync");
  Export<AotiRun>(env, exports, "aotiRun");
  Export<AotiRunAsync>(env, exports, "aotiRunAsync");
  Export<AotiCallSpec>(env, exports, "aotiCallSpec");
  Export<AotiConstantFqns>(env, exports, "aotiConstantFqns");
  Export<AotiMetadata>(env, exports, "aotiMetadata");
  Export<AotiLoadConstants>(env, exports, "aotiLoadConstants");
  Export<AotiDispose>(env, exports, "aotiDispose");
}

}  // namespace tn

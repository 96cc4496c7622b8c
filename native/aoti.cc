// AOTInductor packages (.pt2 from Python's torch._inductor.aoti_compile_and_package): loading one with
// LibTorch's AOTIModelPackageLoader, running it, reading its call spec and metadata, and swapping its
// constants (weights).
//
//   aotiLoad(path, modelName, runSingleThreaded, numRunners, deviceIndex) / aotiLoadAsync(...)
//   aotiRun(p, tensors) / aotiRunAsync(p, tensors)       flat tensors in, flat tensors out
//   aotiCallSpec(p) -> [in, out], aotiMetadata(p), aotiConstantFqns(p)
//   aotiLoadConstants(p, names, tensors, checkFullUpdate, userManaged), aotiDispose(p)
//
// The package is checked before LibTorch sees it (a zip holding the model asked for, each record the loader
// uses matching its CRC-32: aoti_archive.h), so a wrong or damaged file is a message naming what is wrong;
// what the loader itself refuses (a package for another device, a shared library this LibTorch cannot
// load) comes back as its error, never a crash.
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/version.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "aoti_archive.h"
#include "args.h"
#include "async.h"
#include "errors.h"
#include "handle.h"
#include "tagged_external.h"

namespace tn {
namespace {

using torch::inductor::AOTIModelPackageLoader;

// A package may live unpacked in a temporary folder that goes with its loader (a CUDA package, any package
// under LibTorch before 2.13, a CPU package with kernel libraries: LoadImpl). Node frees a package's External
// at a normal exit, but process.exit() frees none, so every live box is listed here and an atexit handler
// releases their loaders. The handler is registered at the first load, so it runs before the destructors
// of the static objects made until then (LibTorch's own). A loader that only a worker holds at that moment
// (a load not yet handed to JS, a run in flight) keeps its folder.
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
  std::string path, modelName, tempBase;
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
  r.tempBase = TempBase();
  return r;
}

// LibTorch 2.13's loader takes a package unpacked into a folder and leaves the folder alone. torchnode
// unpacks CPU packages itself (CheckRecords, which checks each record as it writes it) and removes the
// folder with the loader, also when loading fails. CUDA packages, whose kernels are read from the folder
// later, and every package under older LibTorch are unpacked by the loader itself, into a folder only its
// destructor removes: a package it refuses after unpacking leaves that folder behind.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 13)
constexpr bool kLoaderTakesFolders = true;
#else
constexpr bool kLoaderTakesFolders = false;
#endif

// The loader's message names files in the folder about to be removed: name them in the package instead.
std::string InPackage(std::string message, const TempFolder* folder, const std::string& path) {
  if (!folder) return message;
  const std::string unpacked = folder->path() + "/", inPackage = path + ":";
  for (size_t at = 0; (at = message.find(unpacked, at)) != std::string::npos; at += inPackage.size()) {
    message.replace(at, unpacked.size(), inPackage);
  }
  return message;
}

// LibTorch's loader parses a package's metadata into a function-static JSON object (load_json_file in
// model_package_loader.cpp), so two loads at once (loadPackageAsync twice) would race on it: one at a time.
std::mutex& LoaderConstruction() {
  static std::mutex mutex;
  return mutex;
}

struct LoadedPackage {
  std::unique_ptr<TempFolder> folder;  // declared first: removed after the loader is gone
  std::unique_ptr<AOTIModelPackageLoader> loader;
};

std::shared_ptr<AOTIModelPackageLoader> LoadImpl(const LoadRequest& r) {
  auto loaded = std::make_shared<LoadedPackage>();
  size_t libraries = 0;
  {
    PackageArchive archive(r.path);
    std::set<std::string> models = archive.Models();
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
    if (kLoaderTakesFolders && archive.ModelDevice(r.modelName) == "cpu") {
      loaded->folder = std::make_unique<TempFolder>(r.tempBase, "torchnode-aoti-");
    }
    // A damaged compiled library would otherwise be dlopen'ed and run.
    libraries = archive.CheckRecords(r.modelName, loaded->folder.get());
  }
  try {
    std::lock_guard<std::mutex> lock(LoaderConstruction());
    loaded->loader = std::make_unique<AOTIModelPackageLoader>(loaded->folder ? loaded->folder->path() : r.path, r.modelName,
                                                              r.runSingleThreaded, r.numRunners, r.deviceIndex);
  } catch (...) {
    throw PackageError(InPackage(CaptureCurrent().message, loaded->folder.get(), r.path));
  }
  // Once loaded, a CPU package whose one library is the model's own is in memory (the library mapped, its
  // weights read), so its folder goes now and a process killed by a signal leaves nothing behind. Other
  // libraries (Triton CPU kernels) are loaded from the folder at the first run, so it stays.
  if (loaded->folder && libraries == 1) loaded->folder.reset();
  return std::shared_ptr<AOTIModelPackageLoader>(loaded, loaded->loader.get());  // shares the folder's life
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

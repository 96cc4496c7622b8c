// A cache of large CPU blocks under LibTorch's CPU allocator, as PyTorch's CUDA caching allocator keeps
// GPU memory and onnxruntime its arena. glibc returns large freed blocks to the system (they are mmapped,
// or trimmed off the heap's top), so a forward pass at 224×224 touched about 110 MB of fresh pages each
// time: page faults cost up to 20% of an AOTInductor forward of SE-ResNet-50. Blocks of at least 256 KiB
// are kept when freed, by size, and handed out again for a request of the same size; smaller ones go
// straight to LibTorch's default allocator, which still allocates every block.
//
// At most TORCHNODE_CPU_CACHE_MB megabytes are kept (default 1024; 0 turns the cache off); beyond that
// the largest kept blocks are freed. cpuCacheInfo() -> {bytes, blocks, limit}, cpuCacheEmpty().
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

constexpr size_t kMinCached = 256 * 1024;

size_t LimitFromEnvironment() {
  constexpr size_t kDefaultMb = 1024;
  const char* v = std::getenv("TORCHNODE_CPU_CACHE_MB");
  if (v == nullptr || *v == '\0') return kDefaultMb << 20;
  char* end = nullptr;
  unsigned long long mb = std::strtoull(v, &end, 10);
  if (*v < '0' || *v > '9' || *end != '\0') {
    std::fprintf(stderr, "torchnode: TORCHNODE_CPU_CACHE_MB must be a whole number of megabytes (got '%s'); using %zu\n", v, kDefaultMb);
    return kDefaultMb << 20;
  }
  return mb >= (SIZE_MAX >> 20) ? SIZE_MAX : static_cast<size_t>(mb) << 20;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator(c10::Allocator* base, size_t limit) : base_(base), limit_(limit) {}

  // Small blocks come back with the base allocator's own deleter (nothing in LibTorch compares deleters);
  // raw_deleter() below frees them too.
  c10::DataPtr allocate(size_t n) override {
    if (n < kMinCached || limit_ == 0) return base_->allocate(n);
    c10::DataPtr block = Take(n);
    if (!block) {
      try {
        block = base_->allocate(n);
      } catch (const c10::Error&) {
        empty();  // out of memory: what is kept goes back first, as PyTorch's CUDA caching allocator does
        block = base_->allocate(n);
      }
    }
    void* data = block.get();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      bool inserted = live_.try_emplace(data, Block{std::move(block), n}).second;
      TORCH_INTERNAL_ASSERT(inserted, "torchnode's CPU cache was handed an address it already holds");
    }
    // the context is the data, as the default allocator's: raw_allocate and copy-on-write rely on it
    return {data, data, &Return, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &Return; }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }

  struct Info {
    size_t bytes, blocks, limit;
  };
  Info info() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {keptBytes_, kept_.size(), limit_};
  }

  void empty() {
    std::multimap<size_t, c10::DataPtr> dropped;  // freed when this returns, outside the lock
    std::lock_guard<std::mutex> lock(mutex_);
    dropped.swap(kept_);
    keptBytes_ = 0;
  }

  static void Return(void* data);

 private:
  struct Block {
    c10::DataPtr memory;  // as the base allocator made it: dropping it frees the memory
    size_t size;
  };

  c10::DataPtr Take(size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    // the block freed last: the likeliest still in the CPU's caches
    auto [first, last] = kept_.equal_range(n);
    if (first == last) return {};
    auto kept = std::prev(last);
    c10::DataPtr block = std::move(kept->second);
    kept_.erase(kept);
    keptBytes_ -= n;
    return block;
  }

  void Release(void* data) {
    std::vector<c10::DataPtr> dropped;  // freed when this returns, outside the lock
    std::unique_lock<std::mutex> lock(mutex_);
    auto live = live_.find(data);
    if (live == live_.end()) {
      // a small block, made by the base allocator, released through raw_deleter()
      lock.unlock();
      base_->raw_deleter()(data);
      return;
    }
    Block block = std::move(live->second);
    live_.erase(live);
    if (block.size > limit_) {
      dropped.push_back(std::move(block.memory));
      return;
    }
    while (keptBytes_ + block.size > limit_) {  // the largest kept blocks make room
      auto largest = std::prev(kept_.end());
      keptBytes_ -= largest->first;
      dropped.push_back(std::move(largest->second));
      kept_.erase(largest);
    }
    keptBytes_ += block.size;
    kept_.emplace(block.size, std::move(block.memory));
  }

  c10::Allocator* const base_;
  const size_t limit_;
  std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::multimap<size_t, c10::DataPtr> kept_;
  size_t keptBytes_ = 0;
};

// Made once per process, at the first load of the addon, and never destroyed: blocks it handed out may be
// freed while the process ends.
CachingCpuAllocator* Cache() {
  static CachingCpuAllocator* cache = [] {
    auto* c = new CachingCpuAllocator(c10::GetCPUAllocator(), LimitFromEnvironment());
    c10::SetCPUAllocator(c, /*priority=*/0);
    return c;
  }();
  return cache;
}

void CachingCpuAllocator::Return(void* data) { Cache()->Release(data); }

Napi::Value CpuCacheInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CachingCpuAllocator::Info i = Cache()->info();
  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(i.bytes)));
  out.Set("blocks", Napi::Number::New(env, static_cast<double>(i.blocks)));
  out.Set("limit", Napi::Number::New(env, static_cast<double>(i.limit)));
  return out;
}

Napi::Value CpuCacheEmpty(const Napi::CallbackInfo& info) {
  Cache()->empty();
  return info.Env().Undefined();
}

}  // namespace

void RegisterCpuCache(Napi::Env env, Napi::Object exports) {
  Cache();
  Export<CpuCacheInfo>(env, exports, "cpuCacheInfo");
  Export<CpuCacheEmpty>(env, exports, "cpuCacheEmpty");
}

}  // namespace tn

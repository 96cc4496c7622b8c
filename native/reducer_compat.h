// c10d::Reducer's constructor grew trailing arguments over LibTorch releases. After the nine that every
// supported release takes (params, bucket indices, process group, expect_sparse_gradients,
// bucket_bytes_cap, find_unused_parameters, gradient_as_bucket_view, param_names,
// first_bucket_bytes_cap) come:
//   2.9, 2.10    skip_all_reduce_unused_params, use_python_reducer
//   2.11         ... and bucket_bytes_cap_list
//   2.13, 2.14   ... and batched_grad_copy (with a default)
// MakeReducer passes PyTorch's defaults for whichever of them this LibTorch has (false, false, {},
// false), longest form first so that a defaulted last argument cannot pick a shorter form. Only the
// chosen form is instantiated, so the same source builds against every release. It depends on nothing
// but the standard library: test/reducer-compat.test.ts compiles it against a stand-in of each form.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace tn {

template <typename R, typename... Lead>
std::shared_ptr<R> MakeReducer(Lead&&... lead) {
  using CapList = std::vector<int64_t>;
  if constexpr (std::is_constructible_v<R, Lead..., bool, bool, CapList, bool>) {
    return std::make_shared<R>(std::forward<Lead>(lead)..., false, false, CapList{}, false);
  } else if constexpr (std::is_constructible_v<R, Lead..., bool, bool, CapList>) {
    return std::make_shared<R>(std::forward<Lead>(lead)..., false, false, CapList{});
  } else {
    static_assert(std::is_constructible_v<R, Lead..., bool, bool>,
                  "this LibTorch's c10d::Reducer constructor is not one torchnode knows (LibTorch 2.9 or later is needed)");
    return std::make_shared<R>(std::forward<Lead>(lead)..., false, false);
  }
}

}  // namespace tn

// Guards the op entry points share (ops.cc's hand-written div, dispatch.cc's generated calls).
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/util/string_view.h>

#include <optional>

namespace tn {

// Integer division of the type's minimum by -1 traps the CPU (SIGFPE); this throws a TorchValueError
// instead when `mode` is 'trunc' and such a pair is among x, y (int32/int64 on the CPU).
void CheckIntegerDivision(const at::Tensor& x, const at::Tensor& y, const std::optional<c10::string_view>& mode);

}  // namespace tn

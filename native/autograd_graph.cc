// The autograd graph behind a tensor, as Python reaches it through grad_fn.next_functions: for drawing
// it (lib/viz.ts, torchviz's make_dot). Nodes in the order of a depth-first walk from grad_fn
// (make_dot's order); an AccumulateGrad node carries its leaf tensor's identity and shape, which the JS
// side matches against named parameters.
#include <ATen/core/Tensor.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "errors.h"

namespace tn {
namespace {

using torch::autograd::Node;

// Python shows a node by its class name: "AddmmBackward0", "AccumulateGrad" (C++ spells the latter
// with its namespace).
std::string PythonName(const Node& node) {
  std::string name = node.name();
  auto colon = name.rfind("::");
  return colon == std::string::npos ? name : name.substr(colon + 2);
}

// An object's address as a BigInt: the identity of a node or of a tensor (its TensorImpl).
Napi::Value IdOf(Napi::Env env, const void* p) {
  return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)));
}

// autogradGraph(t) -> { nodes: [{ id, name, variable?: { id, shape } }], edges: [[from, to]] } or null when t
// has no grad_fn. An edge [from, to]: `from` is one of to's next functions (gradients flow from `to` to
// `from`); next functions that are None in Python (inputs needing no gradient) are left out, as there.
Napi::Value AutogradGraph(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Env env = a.env();
  Node* root = a.tensor(0).grad_fn().get();
  if (!root) return env.Null();
  std::unordered_map<const Node*, uint32_t> index;
  std::vector<const Node*> order;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  // Depth-first, each node once, next functions in order: make_dot's recursion, without recursing
  // (a deep network's graph is thousands of nodes long).
  struct Frame { const Node* node; size_t next; };
  std::vector<Frame> stack;
  auto visit = [&](const Node* node) {
    index.emplace(node, static_cast<uint32_t>(order.size()));
    order.push_back(node);
    stack.push_back({node, 0});
  };
  visit(root);
  while (!stack.empty()) {
    Frame& top = stack.back();
    const auto& next = top.node->next_edges();
    if (top.next == next.size()) {
      stack.pop_back();
      continue;
    }
    const Node* child = next[top.next++].function.get();
    if (!child) continue;
    const Node* parent = top.node;
    bool seen = index.count(child) > 0;
    if (!seen) visit(child);  // invalidates `top`
    edges.emplace_back(index.at(child), index.at(parent));
  }
  Napi::Array nodes = Napi::Array::New(env, order.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    Napi::Object n = Napi::Object::New(env);
    n.Set("id", IdOf(env, order[i]));
    n.Set("name", PythonName(*order[i]));
    if (auto* acc = dynamic_cast<const torch::autograd::AccumulateGrad*>(order[i])) {
      Napi::Object v = Napi::Object::New(env);
      v.Set("id", IdOf(env, acc->variable.unsafeGetTensorImpl()));
      Napi::Array shape = Napi::Array::New(env, acc->variable.dim());
      for (int64_t d = 0; d < acc->variable.dim(); ++d) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(acc->variable.size(d))));
      v.Set("shape", shape);
      n.Set("variable", v);
    }
    nodes.Set(i, n);
  }
  Napi::Array edgeList = Napi::Array::New(env, edges.size());
  for (uint32_t i = 0; i < edges.size(); ++i) {
    Napi::Array e = Napi::Array::New(env, 2);
    e.Set(0u, edges[i].first);
    e.Set(1u, edges[i].second);
    edgeList.Set(i, e);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("nodes", nodes);
  out.Set("edges", edgeList);
  return out;
}

// The identity of the tensor behind a handle (its TensorImpl): what AccumulateGrad's variable is matched by.
Napi::Value TensorIdOf(const Napi::CallbackInfo& info) {
  Args a(info);
  return IdOf(a.env(), a.tensor(0).unsafeGetTensorImpl());
}

}  // namespace

void RegisterAutogradGraph(Napi::Env env, Napi::Object exports) {
  Export<AutogradGraph>(env, exports, "autogradGraph");
  Export<TensorIdOf>(env, exports, "tensorId");
}

}  // namespace tn

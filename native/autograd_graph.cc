// The autograd graph behind a tensor, as Python reaches it through grad_fn.next_functions: for drawing
// it (lib/viz.ts, torchviz's make_dot). Nodes in the order of a depth-first walk from grad_fn
// (make_dot's order); an AccumulateGrad node carries its leaf tensor's identity and shape, which the JS
// side matches against named parameters. With saved fields asked for, each generated node also lists what
// it saved for backward, as Python's `_saved_*` attributes (saved_attrs.h).
#include <ATen/core/Tensor.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/accumulate_grad.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "args.h"
#include "errors.h"
#include "saved_attrs.h"
#include "tagged_external.h"

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
Napi::Value IdOf(Napi::Env env, const void* p) { return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p))); }

Napi::Array ShapeOf(Napi::Env env, const at::Tensor& t) {
  Napi::Array shape = Napi::Array::New(env, t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.size(d))));
  return shape;
}

Napi::Value TensorInfo(Napi::Env env, const at::Tensor& t) {  // { id, shape }, or null for None
  if (!t.defined()) return env.Null();
  Napi::Object info = Napi::Object::New(env);
  info.Set("id", IdOf(env, t.unsafeGetTensorImpl()));
  info.Set("shape", ShapeOf(env, t));
  return info;
}

// A node's saved fields as [{ name, tensor }|{ name, tensors }|{ name, text }], in Python's names. Reading a
// field after backward freed it throws Python's own error ("Trying to backward through the graph a
// second time…"), as getattr does there. A saved output unpacks to a new tensor each time (as in Python),
// so each saved tensor also comes back as a handle: held by the caller while it draws, no address is
// reused for another tensor.
class SavedToJs : public SavedVisitor {
 public:
  explicit SavedToJs(Napi::Env env) : env_(env), out_(Napi::Array::New(env)) {}
  void tensor(const char* name, const torch::autograd::SavedVariable& saved, const NodePtr& node) override {
    at::Tensor t = saved.unpack(node);
    if (!t.defined()) return value(name, "None");
    add(name).Set("tensor", Held(t));
  }
  void tensors(const char* name, const std::vector<torch::autograd::SavedVariable>& saved, const NodePtr& node) override {
    Napi::Array list = Napi::Array::New(env_, saved.size());
    for (size_t i = 0; i < saved.size(); ++i) list.Set(static_cast<uint32_t>(i), Held(saved[i].unpack(node)));
    add(name).Set("tensors", list);
  }
  void value(const char* name, std::string python_str) override { add(name).Set("text", python_str); }
  Napi::Array result() const { return out_; }

 private:
  Napi::Value Held(const at::Tensor& t) {
    Napi::Value info = TensorInfo(env_, t);
    if (t.defined()) info.As<Napi::Object>().Set("handle", Wrap(env_, t));
    return info;
  }
  Napi::Object add(const char* name) {
    Napi::Object field = Napi::Object::New(env_);
    field.Set("name", name);
    out_.Set(out_.Length(), field);
    return field;
  }
  Napi::Env env_;
  Napi::Array out_;
};

// autogradGraph(t, withSaved?) -> { nodes: [{ id, name, variable?: { id, shape }, saved?: [...] }],
// edges: [[from, to]] } or null when t has no grad_fn. An edge [from, to]: `from` is one of to's next functions (gradients flow from `to`
// to `from`); next functions that are None in Python (inputs needing no gradient) are left out, as there.
Napi::Value AutogradGraph(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Env env = a.env();
  NodePtr root = a.tensor(0).grad_fn();
  if (!root) return env.Null();
  bool withSaved = a.boolean(1, false);
  std::unordered_map<const Node*, uint32_t> index;
  std::vector<NodePtr> order;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  // Depth-first, each node once, next functions in order: make_dot's recursion, without recursing
  // (a deep network's graph is thousands of nodes long).
  struct Frame {
    const Node* node;
    size_t next;
  };
  std::vector<Frame> stack;
  auto visit = [&](const NodePtr& node) {
    index.emplace(node.get(), static_cast<uint32_t>(order.size()));
    order.push_back(node);
    stack.push_back({node.get(), 0});
  };
  visit(root);
  while (!stack.empty()) {
    Frame& top = stack.back();
    const auto& next = top.node->next_edges();
    if (top.next == next.size()) {
      stack.pop_back();
      continue;
    }
    const NodePtr& childPtr = next[top.next++].function;
    const Node* child = childPtr.get();
    if (!child) continue;
    const Node* parent = top.node;
    bool seen = index.count(child) > 0;
    if (!seen) visit(childPtr);  // invalidates `top`
    edges.emplace_back(index.at(child), index.at(parent));
  }
  Napi::Array nodes = Napi::Array::New(env, order.size());
  for (uint32_t i = 0; i < order.size(); ++i) {
    Napi::Object n = Napi::Object::New(env);
    n.Set("id", IdOf(env, order[i].get()));
    n.Set("name", PythonName(*order[i]));
    if (auto* acc = dynamic_cast<const torch::autograd::AccumulateGrad*>(order[i].get())) {
      n.Set("variable", TensorInfo(env, acc->variable));
    }
    if (withSaved) {
      SavedToJs saved(env);
      if (VisitSaved(order[i], saved)) n.Set("saved", saved.result());
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

// ---- one node, as Python's grad_fn object: a handle that keeps it (and what it reaches) alive ----

struct NodeBox {
  NodePtr node;
};
const TaggedExternal<NodeBox> kNodes{0x67726164666e6f64ULL};

Napi::Value WrapNode(Napi::Env env, const NodePtr& node) {
  if (!node) return env.Null();
  return kNodes.Make(env, new NodeBox{node});
}

const NodePtr& NodeArg(const Args& a, size_t i) { return kNodes.Unwrap(a, i, "a grad_fn node handle").node; }

// gradFnNode(t): the node that made t (Python's t.grad_fn), or null.
Napi::Value GradFnNode(const Napi::CallbackInfo& info) {
  Args a(info);
  return WrapNode(a.env(), a.tensor(0).grad_fn());
}

// nodeInfo(n) -> { id, name, next: [[node | null, inputNr]] }: Python's grad_fn identity, name() and
// next_functions.
Napi::Value NodeInfo(const Napi::CallbackInfo& info) {
  Args a(info);
  Napi::Env env = a.env();
  NodePtr node = NodeArg(a, 0);
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", IdOf(env, node.get()));
  out.Set("name", PythonName(*node));
  const auto& edges = node->next_edges();
  Napi::Array next = Napi::Array::New(env, edges.size());
  for (size_t i = 0; i < edges.size(); ++i) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, WrapNode(env, edges[i].function));
    pair.Set(1u, Napi::Number::New(env, edges[i].input_nr));
    next.Set(static_cast<uint32_t>(i), pair);
  }
  out.Set("next", next);
  return out;
}

// nodeVariable(n): an AccumulateGrad's leaf tensor (a new handle), or null for other nodes.
Napi::Value NodeVariable(const Napi::CallbackInfo& info) {
  Args a(info);
  auto* acc = dynamic_cast<const torch::autograd::AccumulateGrad*>(NodeArg(a, 0).get());
  return acc ? Wrap(a.env(), acc->variable) : a.env().Null();
}

// nodeSaved(n): what the node saved for backward, as autogradGraph's `saved` (null for a node that
// saves nothing Python shows).
Napi::Value NodeSaved(const Napi::CallbackInfo& info) {
  Args a(info);
  SavedToJs saved(a.env());
  if (!VisitSaved(NodeArg(a, 0), saved)) return a.env().Null();
  return saved.result();
}

// viewBase(t): the tensor t is a view of (Python's t._base), or null when t is not a view.
Napi::Value ViewBase(const Napi::CallbackInfo& info) {
  Args a(info);
  const at::Tensor& t = a.tensor(0);
  if (!t.is_view()) return a.env().Null();
  return Wrap(a.env(), at::Tensor(t._base()));
}

}  // namespace

void RegisterAutogradGraph(Napi::Env env, Napi::Object exports) {
  Export<AutogradGraph>(env, exports, "autogradGraph");
  Export<TensorIdOf>(env, exports, "tensorId");
  Export<ViewBase>(env, exports, "viewBase");
  Export<GradFnNode>(env, exports, "gradFnNode");
  Export<NodeInfo>(env, exports, "nodeInfo");
  Export<NodeVariable>(env, exports, "nodeVariable");
  Export<NodeSaved>(env, exports, "nodeSaved");
}

}  // namespace tn

#include "engine/self_attention.h"

#include <map>

namespace healbert {

namespace {

// (K, B, T, H) -> (K * B, NH, T, HD): the members' sequences side by side, member-major.
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  return x.view({x.size(0) * x.size(1), x.size(2), heads, x.size(3) / heads}).transpose(1, 2);
}

// (K * B, NH, T, HD) -> (K, B, T, H)
torch::Tensor merge_heads(const torch::Tensor& x, int64_t members) {
  return x.transpose(1, 2).reshape({members, x.size(0) / members, x.size(2), x.size(1) * x.size(3)});
}

// (K, R, H) -> (K, NH, R, HD)
torch::Tensor split_position_heads(const torch::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

}  // namespace

LayerInputs layer_inputs(const ModelConfig& c, const std::array<torch::Tensor, kRoleCount>& global,
                         const DeviceBatch& b, const ForwardContext& ctx) {
  LayerInputs in;
  in.key_mask = b.key_mask;
  in.packing = packing_for(b, ctx);
  const int64_t seq = b.input_ids.size(1);
  const auto device = b.input_ids.device();
  const auto at = [&](Role r) -> const torch::Tensor& { return global[static_cast<size_t>(r)]; };
  if (c.attention == AttentionKind::kDisentangled) {
    in.relative = relative_rows(c.relative, seq, device);
    // Only the rows this length uses: the rest get no gradient, as transformers' gather gives them none.
    auto rows = at(Role::kRelEmb).narrow(1, in.relative.first, in.relative.count);  // (K, R, H)
    in.relative_embeddings = at(Role::kRelNormW).defined()
                                 ? layer_norm(rows, at(Role::kRelNormW), at(Role::kRelNormB), c.layer_norm_eps)
                                 : rows;
  }
  if (c.attention == AttentionKind::kRotary) {
    std::map<double, RotaryTable> tables;
    for (double theta : c.rope_theta) {
      if (!tables.count(theta)) tables[theta] = rotary_table(theta, c.head_dim(), seq, device);
      in.rotary.push_back(tables[theta]);
    }
  }
  return in;
}

torch::Tensor self_attention(const ModelConfig& c, const LayerTensors& l, size_t layer, const torch::Tensor& x,
                             const LayerInputs& in, const ForwardContext& ctx) {
  const auto at = [&](Role r) -> const torch::Tensor& { return l[static_cast<size_t>(r)]; };
  const Packing& packing = in.packing;
  const auto padded = [&](const torch::Tensor& y) { return packing.active() ? unpack(y, packing) : y; };
  torch::Tensor context;  // (K * B, NH, T, HD)
  if (c.attention == AttentionKind::kRotary) {
    // One fused projection, (K, B, T, 3H) -> query, key and value (K * B, NH, T, HD) each.
    auto qkv = padded(linear(x, at(Role::kQkvW), at(Role::kQkvB), ctx));
    auto parts = qkv.view({qkv.size(0) * qkv.size(1), qkv.size(2), 3, c.num_heads, c.head_dim()});
    const auto part = [&](int64_t i) { return parts.select(2, i).transpose(1, 2); };
    const auto& table = in.rotary.at(layer);
    auto q = rotate(part(0), table), k = rotate(part(1), table), v = part(2);
    const int64_t window = c.layer_window.at(layer);
    context = window < 0 ? attention(q, k, v, in.key_mask, c.attention_dropout, ctx)
                         : windowed_attention(q, k, v, in.key_mask, window, c.attention_dropout, ctx);
  } else {
    const auto heads = [&](const torch::Tensor& y) { return split_heads(padded(y), c.num_heads); };
    auto q = heads(linear(x, at(Role::kQueryW), at(Role::kQueryB), ctx));
    auto k = heads(linear(x, at(Role::kKeyW), at(Role::kKeyB), ctx));
    auto v = heads(linear(x, at(Role::kValueW), at(Role::kValueB), ctx));
    if (c.attention == AttentionKind::kAbsolute) {
      context = attention(q, k, v, in.key_mask, c.attention_dropout, ctx);
    } else {
      // DeBERTa: each layer drops out the relative embeddings (pos_dropout) and projects them with its own
      // key and query projections (share_att_key) or its own position projections.
      auto rel = dropout(in.relative_embeddings, c.hidden_dropout, ctx);
      const bool shared = c.relative.share_keys;
      const auto project = [&](Role w, Role b) {
        return split_position_heads(linear(rel, at(w), at(b), ctx), c.num_heads);
      };
      torch::Tensor pos_key, pos_query;
      if (c.relative.c2p)
        pos_key = shared ? project(Role::kKeyW, Role::kKeyB) : project(Role::kPosKeyW, Role::kPosKeyB);
      if (c.relative.p2c)
        pos_query = shared ? project(Role::kQueryW, Role::kQueryB) : project(Role::kPosQueryW, Role::kPosQueryB);
      context = disentangled_attention(q, k, v, pos_key, pos_query, in.relative, in.key_mask, c.attention_dropout, ctx);
    }
  }
  auto merged = merge_heads(context, ctx.members);  // (K, B, T, H)
  return packing.active() ? pack(merged, packing) : merged;
}

}  // namespace healbert

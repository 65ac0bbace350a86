#include "engine/attention_rotary.h"

#include <algorithm>

namespace healbert {

RotaryTable rotary_table(double theta, int64_t head_dim, int64_t seq, const torch::Device& device) {
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  // transformers: inv_freq = 1 / (base ** (arange(0, dim, 2) / dim)) in float32; the angles are the float32
  // products position x inv_freq (its matmul with an inner size of 1).
  auto inv_freq = torch::reciprocal(torch::pow(theta, torch::arange(0, head_dim, 2, f32) / head_dim));
  auto angles = torch::arange(seq, f32).unsqueeze(1) * inv_freq.unsqueeze(0);  // (T, HD / 2)
  auto both = torch::cat({angles, angles}, -1);                                // (T, HD)
  return {both.cos().to(device), both.sin().to(device)};
}

torch::Tensor rotate(const torch::Tensor& x, const RotaryTable& table) {
  // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1]: per half, each product rounded and then summed
  // as transformers' expression does.
  const int64_t half = x.size(-1) / 2;
  auto f = x.to(torch::kFloat32);
  auto x1 = f.narrow(-1, 0, half), x2 = f.narrow(-1, half, half);
  auto c = table.cos.narrow(-1, 0, half), s = table.sin.narrow(-1, 0, half);
  return torch::cat({x1 * c - x2 * s, x2 * c + x1 * s}, -1).to(x.scalar_type());
}

namespace {

// (T, S) bool: key j (of keys numbered from `key_start`) within the window of query i, or j == i.
torch::Tensor band(int64_t queries, int64_t keys, int64_t key_start, int64_t window, const torch::Device& device) {
  auto i = torch::arange(queries, torch::TensorOptions().dtype(torch::kInt64).device(device)).unsqueeze(1);
  auto j = torch::arange(key_start, key_start + keys, torch::TensorOptions().dtype(torch::kInt64).device(device));
  return (i - j.unsqueeze(0)).abs().le(window);
}

// Pads dimension `dim` of x with `before` and `after` zeros (or false).
torch::Tensor pad_dim(const torch::Tensor& x, int64_t dim, int64_t before, int64_t after) {
  std::vector<torch::Tensor> parts;
  auto shape = x.sizes().vec();
  if (before > 0) {
    shape[static_cast<size_t>(dim)] = before;
    parts.push_back(torch::zeros(shape, x.options()));
  }
  parts.push_back(x);
  if (after > 0) {
    shape[static_cast<size_t>(dim)] = after;
    parts.push_back(torch::zeros(shape, x.options()));
  }
  return parts.size() == 1 ? x : torch::cat(parts, dim);
}

}  // namespace

torch::Tensor windowed_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                 const torch::Tensor& key_mask, int64_t window, double dropout_p,
                                 const ForwardContext& ctx) {
  const int64_t kb = q.size(0), heads = q.size(1), seq = q.size(2), hd = q.size(3);
  const int64_t batch = kb / ctx.members;
  const auto device = q.device();
  // Queries in blocks of `block`; block b's keys are positions [b * block - window, (b + 1) * block + window).
  const int64_t block = std::max<int64_t>(window, 16), reach = block + 2 * window;
  if (seq <= 2 * reach) {
    // One band mask over the whole sequence: (B, T, T).
    auto mask = band(seq, seq, 0, window, device).unsqueeze(0);
    if (key_mask.defined()) mask = mask.logical_and(key_mask.unsqueeze(1)).logical_or(torch::eye(seq, mask.options()));
    return attention_pairs(q, k, v, mask.expand({batch, seq, seq}), dropout_p, ctx);
  }
  const int64_t blocks = (seq + block - 1) / block, padded = blocks * block;
  // (KB, NH, T, HD) -> (KB * nb, NH, block, HD): query blocks; keys and values: (KB * nb, NH, reach, HD), the
  // sequence padded with `window` zeros before and the rest after so that every block's reach exists.
  const auto query_blocks = pad_dim(q, 2, 0, padded - seq)
                                .view({kb, heads, blocks, block, hd})
                                .permute({0, 2, 1, 3, 4})
                                .reshape({kb * blocks, heads, block, hd});
  const auto key_blocks = [&](const torch::Tensor& x) {
    return pad_dim(x, 2, window, padded - seq + window)
        .unfold(2, reach, block)  // (KB, NH, nb, HD, reach)
        .permute({0, 2, 1, 4, 3})
        .reshape({kb * blocks, heads, reach, hd});
  };
  // The mask of one member's block b: (B * nb, block, reach), true where the key is a real token in the window.
  auto real = key_mask.defined() ? key_mask
                                 : torch::ones({batch, seq}, torch::TensorOptions().dtype(torch::kBool).device(device));
  auto reachable = pad_dim(real, 1, window, padded - seq + window).unfold(1, reach, block);  // (B, nb, reach)
  auto in_window = band(block, reach, -window, window, device);                              // (block, reach)
  auto self = band(block, reach, -window, 0, device);
  auto mask = reachable.unsqueeze(2).logical_and(in_window).logical_or(self).reshape({batch * blocks, block, reach});
  auto out = attention_pairs(query_blocks, key_blocks(k), key_blocks(v), mask, dropout_p, ctx);
  return out.view({kb, blocks, heads, block, hd})
      .permute({0, 2, 1, 3, 4})
      .reshape({kb, heads, padded, hd})
      .narrow(2, 0, seq);
}

}  // namespace healbert

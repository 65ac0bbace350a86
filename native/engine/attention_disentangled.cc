#include "engine/attention_disentangled.h"

#include <cmath>
#include <limits>

namespace healbert {

namespace {

// transformers' make_log_bucket_position, op for op in float32: relative positions d (int64) -> buckets (int64).
torch::Tensor log_buckets(const torch::Tensor& d, int64_t bucket_size, int64_t max_position) {
  const int64_t mid = bucket_size / 2;
  auto sign = torch::sign(d);
  auto abs_pos = torch::where(d.lt(mid).logical_and(d.gt(-mid)), torch::full({}, mid - 1, d.options()), torch::abs(d));
  // torch.log(torch.tensor((max_position - 1) / mid)): the double quotient rounded to float32, then its log.
  const auto base = torch::log(torch::full({}, static_cast<double>(max_position - 1) / static_cast<double>(mid),
                                           torch::TensorOptions().dtype(torch::kFloat32).device(d.device())));
  auto log_pos = torch::ceil(torch::log(abs_pos.div(mid)) / base * (mid - 1)) + mid;
  return torch::where(abs_pos.le(mid), d.to(log_pos.scalar_type()), log_pos * sign).to(torch::kInt64);
}

// (K, B * NH, ...) views of a member-major (K * B, NH, ...) tensor and back are plain reshapes.
torch::Tensor by_member(const torch::Tensor& x, int64_t members) {
  return x.view({members, x.size(0) / members, x.size(1), x.size(2), x.size(3)});
}

}  // namespace

RelativeRows relative_rows(const RelativeAttention& r, int64_t seq, const torch::Device& device) {
  // d = i - j for every pair: -(T - 1) .. T - 1, each one's row once; the (T, T) index reads them by i - j.
  auto d = torch::arange(-(seq - 1), seq, torch::kInt64);
  if (r.buckets > 0) d = log_buckets(d, r.buckets, r.max_relative);
  const int64_t span = r.span();
  auto row = torch::clamp(d + span, 0, 2 * span - 1);  // (2T - 1), non-decreasing in d
  RelativeRows out;
  out.first = row[0].item<int64_t>();
  out.count = row[-1].item<int64_t>() - out.first + 1;
  auto i = torch::arange(seq, torch::kInt64);
  auto offset = i.unsqueeze(1) - i.unsqueeze(0) + (seq - 1);  // (T, T): i - j + T - 1
  out.index = (row - out.first).index_select(0, offset.reshape({-1})).view({seq, seq}).to(device);
  return out;
}

torch::Tensor disentangled_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                     const torch::Tensor& pos_key, const torch::Tensor& pos_query,
                                     const RelativeRows& rows, const torch::Tensor& key_mask, double dropout_p,
                                     const ForwardContext& ctx) {
  const int64_t members = ctx.members, kb = q.size(0), heads = q.size(1), seq = q.size(2), hd = q.size(3);
  TORCH_CHECK(rows.index.size(0) == seq, "relative index for ", rows.index.size(0), " tokens, queries of ", seq);
  // transformers: scale = sqrt(float32(d * s)), keys divided by it before the product, each position term after.
  const int64_t terms = 1 + (pos_key.defined() ? 1 : 0) + (pos_query.defined() ? 1 : 0);
  const double scale = std::sqrt(static_cast<float>(hd * terms));
  // (KB, NH, T, HD) @ (KB, NH, HD, T) -> (KB, NH, T, T)
  // The keys divided in their own dtype, by the scale rounded to it (transformers' scale.to(query.dtype)).
  auto scores = torch::matmul(q, (k / torch::full({}, scale, k.options())).transpose(-1, -2)).to(torch::kFloat32);
  const auto index = rows.index.expand({kb, heads, seq, seq});
  // Each member's queries (keys) against its own projected positions: (K, B, NH, T, HD) @ (K, 1, NH, HD, R).
  const auto against = [&](const torch::Tensor& x, const torch::Tensor& positions) {
    auto full = torch::matmul(by_member(x, members), positions.unsqueeze(1).transpose(-1, -2));
    return full.view({kb, heads, seq, rows.count}).to(torch::kFloat32);  // (KB, NH, T, R)
  };
  torch::Tensor position_terms;
  if (pos_key.defined()) position_terms = torch::gather(against(q, pos_key), -1, index) / scale;  // c2p
  if (pos_query.defined()) {
    // p2c: key j against the row of (i, j), read at [j, i] of the keys' table and transposed.
    auto p2c = torch::gather(against(k, pos_query), -1, index.transpose(-1, -2)).transpose(-1, -2) / scale;
    position_terms = position_terms.defined() ? position_terms + p2c : p2c;
  }
  scores = scores + position_terms;
  if (key_mask.defined()) {
    auto hidden = key_mask.logical_not().view({key_mask.size(0), 1, 1, seq});
    if (members > 1) hidden = hidden.repeat({members, 1, 1, 1});
    scores = scores.masked_fill(hidden, std::numeric_limits<float>::lowest());
  }
  return attend_scores(scores, v, dropout_p, ctx);  // (KB, NH, T, HD)
}

}  // namespace healbert

#include "engine/packing.h"

namespace healbert {

torch::Tensor member_rows(const torch::Tensor& rows, int64_t members, int64_t per_member) {
  if (members == 1) return rows;
  return (rows.unsqueeze(0) + torch::arange(members, rows.options()).unsqueeze(1) * per_member).reshape({-1});
}

Packing packing_for(const DeviceBatch& b, const ForwardContext& ctx) {
  Packing p;
  if (!ctx.pack_padding || !b.key_mask.defined()) return p;
  auto flat = b.key_mask.reshape({-1});
  p.rows = b.real_rows.defined() ? b.real_rows : flat.nonzero().squeeze(1);  // (N), counted on the host
  p.batch = b.key_mask.size(0);
  p.seq = b.key_mask.size(1);
  if (p.rows.size(0) == flat.size(0)) {
    p.rows = torch::Tensor();  // no padding after all
    return p;
  }
  p.member_rows = member_rows(p.rows, ctx.members, flat.size(0));
  return p;
}

torch::Tensor pack(const torch::Tensor& x, const Packing& p) {
  return x.reshape({-1, x.size(-1)}).index_select(0, p.member_rows).view({x.size(0), -1, x.size(-1)});
}

torch::Tensor unpack(const torch::Tensor& x, const Packing& p) {
  return torch::zeros({x.size(0) * p.batch * p.seq, x.size(-1)}, x.options())
      .index_copy(0, p.member_rows, x.reshape({-1, x.size(-1)}))
      .view({x.size(0), p.batch, p.seq, x.size(-1)});
}

}  // namespace healbert

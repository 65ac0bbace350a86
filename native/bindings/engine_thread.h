// The one thread on which all engine work runs, in submission order.
//
// Why not libuv's thread pool: glibc gives each allocating thread its own malloc arena and keeps freed
// memory cached there, so every pool thread that ran a training step kept a step's worth of activations
// (bert-base on the CPU, batch 8: resident memory grew by 1.2 GiB per step, to 6.5 GiB after four steps;
// batch 32 reached 20 GiB). On one thread it stays at one step's worth. It also keeps the pool free for
// Node's own file I/O while a long step runs, and gives CUDA work a single, stable host thread.
#pragma once

#include <functional>

namespace healbert::js {

// Queues `job` to run on the engine thread (started on first use, alive until the process exits).
void post_to_engine_thread(std::function<void()> job);

}  // namespace healbert::js

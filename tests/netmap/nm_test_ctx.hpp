// An nmctx that keeps the error messages it receives, so tests can check what a failure said.
// It copies the default context's allocator and lock; `ctx` is the first member, so the error
// callback finds the recorder from the nmctx pointer.
#pragma once

#include <libnetmap.h>

#include <string>
#include <vector>

struct recording_ctx {
    nmctx ctx;
    std::vector<std::string> errors;

    recording_ctx() : ctx(*nmctx_get())
    {
        ctx.verbose = 1;
        ctx.error = [](nmctx *c, const char *msg) {
            reinterpret_cast<recording_ctx *>(c)->errors.emplace_back(msg);
        };
        ctx.mem_descs = nullptr;
    }
    recording_ctx(const recording_ctx &) = delete;
    recording_ctx &operator=(const recording_ctx &) = delete;

    nmctx *get() { return &ctx; }
    std::string last_error() const { return errors.empty() ? std::string() : errors.back(); }
};

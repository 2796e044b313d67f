// spm_shim.cc - the SentencePiece C++ library behind the C functions of
// spm_shim.h. No exception or C++ type crosses the boundary: failures come
// back as NULL / -1 with a message.
//
// Deliberately not here: anything about T5 (tokenizer.c adds eos, labels).
#include "spm_shim.h"

#include <sentencepiece_processor.h>

#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

struct spm_model {
    sentencepiece::SentencePieceProcessor sp;
};

static void put_msg(char *msg, size_t cap, const std::string &s)
{
    if (msg && cap) std::snprintf(msg, cap, "%s", s.c_str());
}

extern "C" spm_model *spm_load(const void *data, size_t len, char *msg, size_t cap)
{
    spm_model *m = new (std::nothrow) spm_model;
    if (!m) {
        put_msg(msg, cap, "out of memory");
        return nullptr;
    }
    try {
        auto st = m->sp.LoadFromSerializedProto(
            absl::string_view(static_cast<const char *>(data), len));
        if (!st.ok()) {
            put_msg(msg, cap, st.ToString());
            delete m;
            return nullptr;
        }
    } catch (const std::exception &e) {
        put_msg(msg, cap, e.what());
        delete m;
        return nullptr;
    }
    return m;
}

extern "C" void spm_free(spm_model *m) { delete m; }

extern "C" int spm_size(const spm_model *m) { return m->sp.GetPieceSize(); }
extern "C" int spm_eos_id(const spm_model *m) { return m->sp.eos_id(); }
extern "C" int spm_pad_id(const spm_model *m) { return m->sp.pad_id(); }
extern "C" int spm_unk_id(const spm_model *m) { return m->sp.unk_id(); }

extern "C" int spm_is_control(const spm_model *m, int id)
{
    if (id < 0 || id >= m->sp.GetPieceSize()) return 0;
    return m->sp.IsControl(id) || m->sp.IsUnknown(id);
}

extern "C" long spm_encode(const spm_model *m, const char *text, int *ids, size_t cap)
{
    std::vector<int> out;
    try {
        if (!m->sp.Encode(text, &out).ok()) return -1;
    } catch (const std::exception &) {
        return -1;
    }
    for (size_t i = 0; i < out.size() && i < cap; i++) ids[i] = out[i];
    return (long)out.size();
}

extern "C" long spm_decode(const spm_model *m, const int *ids, size_t n, char *out, size_t cap)
{
    std::string s;
    try {
        std::vector<int> v(ids, ids + n);
        if (!m->sp.Decode(v, &s).ok()) return -1;
    } catch (const std::exception &) {
        return -1;
    }
    if (cap) {
        size_t k = s.size() < cap - 1 ? s.size() : cap - 1;
        std::memcpy(out, s.data(), k);
        out[k] = '\0';
    }
    return (long)s.size();
}

extern "C" const char *spm_piece(const spm_model *m, int id)
{
    if (id < 0 || id >= m->sp.GetPieceSize()) return nullptr;
    return m->sp.IdToPiece(id).c_str();
}

/* Depth levels read and applied in C (issue 21: depth is the busiest data a venue sends).

- `parse` reads a venue's level array, as JSON text (`[["61799.90","3.512"],...]`, the msgspec.Raw
  of a frame), into one `Levels`: the prices and sizes as packed doubles, no Python object per level.
- `Side` is one side of a book: prices and sizes as sorted doubles in chunks, the touch last.
  `Side.apply(levels)` writes a frame's levels in one C loop.

The pure-Python twins are venues/levels.py and books/side.py: same grammar, floats and errors.

Numbers: a JSON number or a string holding a venue decimal (`[+-]?(d+.?d*|.d+)([eE][+-]?d+)?`,
nothing else: no spaces, "inf" or "1_0"). The float is the one float() gives: the exact fast path
(at most 15 significant digits and a power of ten up to 22, where one IEEE multiply or divide is
correctly rounded) or else PyOS_string_to_double.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static double PRICE_MIN = 1e-8, PRICE_MAX = 1e12, QTY_MAX = 1e15;

static const double POW10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;
    double *v;      /* 2n: price, size (size already in the base coin) */
    int32_t *off;   /* 4n: start and length of the price and size texts in src (for Bitget's CRC) */
    PyObject *src;  /* the text the levels came from */
} LevelsObject;

static PyTypeObject LevelsType;

/* ---- the text: str (ASCII), bytes, or anything with the buffer protocol (msgspec.Raw) ---- */

typedef struct {
    const char *p;
    Py_ssize_t len;
    Py_buffer view;
    int has_view;
} Text;

static int text_open(PyObject *obj, Text *t) {
    t->has_view = 0;
    if (PyUnicode_Check(obj)) {
        if (!PyUnicode_IS_ASCII(obj)) {
            PyErr_SetString(PyExc_ValueError, "levels: not ASCII");
            return -1;
        }
        t->p = (const char *)PyUnicode_DATA(obj);
        t->len = PyUnicode_GET_LENGTH(obj);
        return 0;
    }
    if (PyObject_GetBuffer(obj, &t->view, PyBUF_SIMPLE) < 0)
        return -1;
    t->has_view = 1;
    t->p = (const char *)t->view.buf;
    t->len = t->view.len;
    return 0;
}

static void text_close(Text *t) {
    if (t->has_view)
        PyBuffer_Release(&t->view);
}

/* ---- the grammar ---- */

static inline const char *skip_ws(const char *s, const char *end) {
    while (s < end && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++;
    return s;
}

static int fail(const char *what, const char *s, const char *base) {
    PyErr_Format(PyExc_ValueError, "levels: %s at byte %zd", what, (Py_ssize_t)(s - base));
    return -1;
}

/* A venue decimal in [s, e): the float, or -1 with ValueError. */
static int decimal(const char *s, const char *e, double *out, const char *base) {
    const char *p = s;
    int neg = 0;
    if (p < e && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
    }
    uint64_t m = 0;
    int digits = 0;      /* significant digits in m */
    int dropped = 0;     /* significant digits past the 19th (not in m) */
    int frac = 0;        /* digits of m after the point */
    int seen = 0;        /* any digit at all */
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        seen = 1;
        if (digits < 19) {
            if (m || *p != '0') {
                m = m * 10 + (uint64_t)(*p - '0');
                digits++;
            }
        } else {
            dropped++;
        }
    }
    if (p < e && *p == '.') {
        p++;
        for (; p < e && *p >= '0' && *p <= '9'; p++) {
            seen = 1;
            if (digits < 19) {
                if (m || *p != '0')
                    digits++;
                m = m * 10 + (uint64_t)(*p - '0');
                frac++;
            } else {
                dropped++;  /* digits after the point past the 19th: only the slow path sees them */
            }
        }
    }
    if (!seen)
        return fail("not a decimal", s, base);
    long ex = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (!(p < e && *p >= '0' && *p <= '9'))
            return fail("not a decimal", s, base);
        for (; p < e && *p >= '0' && *p <= '9'; p++)
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
        if (eneg)
            ex = -ex;
    }
    if (p != e)
        return fail("not a decimal", s, base);
    long exp10 = ex - frac;
    if (!dropped && digits <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;  /* exact: m < 10^15 < 2^53 */
        v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
        *out = neg ? -v : v;
        return 0;
    }
    /* rare: many digits or a far exponent, the correctly rounded conversion of float() */
    char buf[128];
    Py_ssize_t n = e - s;
    if (n >= (Py_ssize_t)sizeof buf)
        return fail("number too long", s, base);
    memcpy(buf, s, (size_t)n);
    buf[n] = 0;
    char *stop;
    double v = PyOS_string_to_double(buf, &stop, NULL);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    if (stop != buf + n)
        return fail("not a decimal", s, base);
    *out = v;
    return 0;
}

/* One number, quoted or not, at *ps; its text's span in [*ts, *te). */
static int number(const char **ps, const char *end, double *out, const char **ts, const char **te,
                  const char *base) {
    const char *s = *ps;
    if (s < end && *s == '"') {
        const char *q = memchr(s + 1, '"', (size_t)(end - s - 1));
        if (q == NULL)
            return fail("unterminated string", s, base);
        *ts = s + 1;
        *te = q;
        *ps = q + 1;
    } else {
        const char *q = s;
        while (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == '-' || *q == '+' || *q == 'e' || *q == 'E'))
            q++;
        *ts = s;
        *te = q;
        *ps = q;
    }
    return decimal(*ts, *te, out, base);
}

/* Any further element of a level (OKX's deprecated "0" and its order count): a string or a number. */
static int skip_value(const char **ps, const char *end, const char *base) {
    const char *s = *ps;
    if (s < end && *s == '"') {
        s++;
        while (s < end && *s != '"') {
            if (*s == '\\')
                s++;
            s++;
        }
        if (s >= end)
            return fail("unterminated string", s, base);
        *ps = s + 1;
        return 0;
    }
    const char *q = s;
    while (q < end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == '-' || *q == '+' || *q == 'e' || *q == 'E'))
        q++;
    if (q == s)
        return fail("unexpected value", s, base);
    *ps = q;
    return 0;
}

static int grow(LevelsObject *L, Py_ssize_t *cap) {
    Py_ssize_t c = *cap ? *cap * 2 : 64;
    double *v = PyMem_Realloc(L->v, (size_t)c * 2 * sizeof(double));
    if (v == NULL)
        return -1;
    L->v = v;
    int32_t *o = PyMem_Realloc(L->off, (size_t)c * 4 * sizeof(int32_t));
    if (o == NULL)
        return -1;
    L->off = o;
    *cap = c;
    return 0;
}

static LevelsObject *levels_new(PyObject *src) {
    LevelsObject *L = PyObject_New(LevelsObject, &LevelsType);
    if (L == NULL)
        return NULL;
    L->n = 0;
    L->v = NULL;
    L->off = NULL;
    Py_INCREF(src);
    L->src = src;
    return L;
}

/* One level's price and size (range-checked, size converted) at index L->n. */
static int put(LevelsObject *L, Py_ssize_t *cap, double p, double s, const char *pt, const char *pe,
               const char *st, const char *se, double mult, int inverse, const char *base, const char *at) {
    if (!(p >= PRICE_MIN && p < PRICE_MAX))
        return fail("price out of range", at, base);
    if (!(s >= 0.0 && s < QTY_MAX))
        return fail("size out of range", at, base);
    if (L->n == *cap && grow(L, cap) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t i = L->n++;
    L->v[2 * i] = p;
    L->v[2 * i + 1] = inverse ? s * mult / p : s * mult;
    L->off[4 * i] = (int32_t)(pt - base);
    L->off[4 * i + 1] = (int32_t)(pe - pt);
    L->off[4 * i + 2] = (int32_t)(st - base);
    L->off[4 * i + 3] = (int32_t)(se - st);
    return 0;
}

/* A level array, `[[price, size, ...], ...]` (further elements skipped), or with `changes` Coinbase's
   `[["buy"|"sell", price, size], ...]`: levels into out[0], or bids into out[0] and asks into out[1].
   -1 with ValueError at the first thing that is not so. */
static int read_levels(const Text *t, int changes, double mult, int inverse, LevelsObject **out) {
    Py_ssize_t cap[2] = {0, 0};
    const char *base = t->p, *end = t->p + t->len, *s = skip_ws(t->p, end);
    if (t->len > INT32_MAX)  /* the texts' offsets are 32-bit */
        return fail("text too long", base, base);
    if (s >= end || *s != '[')
        return fail("not an array", s, base);
    s = skip_ws(s + 1, end);
    if (s < end && *s == ']') {
        s++;
    } else {
        for (;;) {
            const char *at = s, *pt, *pe, *st, *se;
            double p, z;
            int side = 0;
            if (s >= end || *s != '[')
                return fail("a level is not an array", s, base);
            s = skip_ws(s + 1, end);
            if (changes) {
                if (end - s >= 5 && memcmp(s, "\"buy\"", 5) == 0) {
                    s += 5;
                } else if (end - s >= 6 && memcmp(s, "\"sell\"", 6) == 0) {
                    side = 1;
                    s += 6;
                } else {
                    return fail("unknown side", s, base);
                }
                s = skip_ws(s, end);
                if (s >= end || *s != ',')
                    return fail("a change without a price", s, base);
                s = skip_ws(s + 1, end);
            }
            if (number(&s, end, &p, &pt, &pe, base) < 0)
                return -1;
            s = skip_ws(s, end);
            if (s >= end || *s != ',')
                return fail("a level without a size", s, base);
            s = skip_ws(s + 1, end);
            if (number(&s, end, &z, &st, &se, base) < 0)
                return -1;
            s = skip_ws(s, end);
            while (!changes && s < end && *s == ',') {
                s = skip_ws(s + 1, end);
                if (skip_value(&s, end, base) < 0)
                    return -1;
                s = skip_ws(s, end);
            }
            if (s >= end || *s != ']')
                return fail("a level is not closed", s, base);
            if (put(out[side], &cap[side], p, z, pt, pe, st, se, mult, inverse, base, at) < 0)
                return -1;
            s = skip_ws(s + 1, end);
            if (s < end && *s == ',') {
                s = skip_ws(s + 1, end);
                continue;
            }
            if (s < end && *s == ']') {
                s++;
                break;
            }
            return fail("levels are not closed", s, base);
        }
    }
    s = skip_ws(s, end);
    if (s != end)
        return fail("text after the levels", s, base);
    return 0;
}

/* parse(text, mult=1.0, inverse=False) -> Levels */
static PyObject *levels_parse(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "parse(text, mult=1.0, inverse=False)");
        return NULL;
    }
    double mult = 1.0;
    int inverse = 0;
    if (nargs > 1 && (mult = PyFloat_AsDouble(args[1])) == -1.0 && PyErr_Occurred())
        return NULL;
    if (nargs > 2 && (inverse = PyObject_IsTrue(args[2])) < 0)
        return NULL;
    Text t;
    if (text_open(args[0], &t) < 0)
        return NULL;
    LevelsObject *L = levels_new(args[0]);
    LevelsObject *out[2] = {L, L};
    int err = L == NULL || read_levels(&t, 0, mult, inverse, out) < 0;
    text_close(&t);
    if (err) {
        Py_XDECREF(L);
        return NULL;
    }
    return (PyObject *)L;
}

/* parse_changes(text, mult=1.0) -> (bids, asks) */
static PyObject *levels_parse_changes(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "parse_changes(text, mult=1.0)");
        return NULL;
    }
    double mult = 1.0;
    if (nargs > 1 && (mult = PyFloat_AsDouble(args[1])) == -1.0 && PyErr_Occurred())
        return NULL;
    Text t;
    if (text_open(args[0], &t) < 0)
        return NULL;
    LevelsObject *out[2] = {levels_new(args[0]), levels_new(args[0])};
    int err = out[0] == NULL || out[1] == NULL || read_levels(&t, 1, mult, 0, out) < 0;
    text_close(&t);
    PyObject *pair = err ? NULL : PyTuple_Pack(2, (PyObject *)out[0], (PyObject *)out[1]);
    Py_XDECREF(out[0]);
    Py_XDECREF(out[1]);
    return pair;
}

/* ---- a book side: levels sorted by price, the best last, in chunks ---- */

/* Prices kept as `key` = price for bids, -price for asks, ascending: the touch is the last level.
   The levels sit in chunks of at most CHUNK, in order, with each chunk's last key in `last`: a
   price is found by a binary search over `last` and one within its chunk, and a level comes or
   goes with a move of at most CHUNK elements (a venue's diffs land hundreds of levels deep, where
   one sorted array moved kilobytes per change). The best is the last chunk's last level, the best
   n are read backwards, and trimming drops whole chunks at the far end. */

#define TEXT_SLOT 48  /* Bitget's texts are ~16 bytes ("64984.00:0.0000"); longer is rejected */
#define CHUNK 64

typedef struct {
    int n;
    double key[CHUNK];
    double size[CHUNK];
    char text[];  /* with texts: CHUNK slots of TEXT_SLOT bytes: the length, then "price:size" as sent */
} Chunk;

typedef struct {
    PyObject_HEAD
    Py_ssize_t n;      /* levels */
    Py_ssize_t nc;     /* chunks */
    Py_ssize_t capc;
    Chunk **c;
    double *last;      /* the last key of each chunk */
    int bid;
    int texts;
} SideObject;

static PyTypeObject SideType;

static Chunk *chunk_new(SideObject *S) {
    Chunk *C = PyMem_Malloc(sizeof(Chunk) + (S->texts ? (size_t)CHUNK * TEXT_SLOT : 0));
    if (C == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    C->n = 0;
    return C;
}

/* room for one more chunk at index i (the chunks from i on move up) */
static int chunks_insert(SideObject *S, Py_ssize_t i, Chunk *C) {
    if (S->nc == S->capc) {
        Py_ssize_t cap = S->capc ? S->capc * 2 : 16;
        Chunk **c = PyMem_Realloc(S->c, (size_t)cap * sizeof(Chunk *));
        if (c == NULL)
            goto nomem;
        S->c = c;
        double *l = PyMem_Realloc(S->last, (size_t)cap * sizeof(double));
        if (l == NULL)
            goto nomem;
        S->last = l;
        S->capc = cap;
    }
    memmove(S->c + i + 1, S->c + i, (size_t)(S->nc - i) * sizeof(Chunk *));
    memmove(S->last + i + 1, S->last + i, (size_t)(S->nc - i) * sizeof(double));
    S->c[i] = C;
    S->last[i] = C->n ? C->key[C->n - 1] : 0.0;
    S->nc++;
    return 0;
nomem:
    PyErr_NoMemory();
    return -1;
}

static void chunks_remove(SideObject *S, Py_ssize_t i) {
    PyMem_Free(S->c[i]);
    memmove(S->c + i, S->c + i + 1, (size_t)(S->nc - i - 1) * sizeof(Chunk *));
    memmove(S->last + i, S->last + i + 1, (size_t)(S->nc - i - 1) * sizeof(double));
    S->nc--;
}

static void side_free(SideObject *S) {
    for (Py_ssize_t i = 0; i < S->nc; i++)
        PyMem_Free(S->c[i]);
    S->nc = 0;
    S->n = 0;
}

/* the index of the first of n sorted doubles >= k (branchless: a book's probes do not predict) */
static inline Py_ssize_t lower_bound(const double *a, Py_ssize_t n, double k) {
    const double *base = a;
    if (n == 0)
        return 0;
    while (n > 1) {
        Py_ssize_t half = n >> 1;
        base = base[half - 1] < k ? base + half : base;
        n -= half;
    }
    return (base - a) + (*base < k);
}

/* the chunk that holds k or would (the last one for a key above all), -1 when there is none */
static inline Py_ssize_t side_chunk(const SideObject *S, double k) {
    if (S->nc == 0)
        return -1;
    Py_ssize_t i = lower_bound(S->last, S->nc, k);
    return i < S->nc ? i : S->nc - 1;
}

/* the level's text into chunk C's slot j: "price:size" from the source text (t NULL: none known) */
static void put_text(Chunk *C, int j, const char *t, const int32_t *o) {
    char *slot = C->text + (size_t)j * TEXT_SLOT;
    if (t == NULL) {
        slot[0] = 0;
        return;
    }
    slot[0] = (char)(o[1] + 1 + o[3]);
    memcpy(slot + 1, t + o[0], (size_t)o[1]);
    slot[1 + o[1]] = ':';
    memcpy(slot + 2 + o[1], t + o[2], (size_t)o[3]);
}

static void chunk_move(SideObject *S, Chunk *C, int to, int from, int count) {
    memmove(C->key + to, C->key + from, (size_t)count * sizeof(double));
    memmove(C->size + to, C->size + from, (size_t)count * sizeof(double));
    if (S->texts)
        memmove(C->text + (size_t)to * TEXT_SLOT, C->text + (size_t)from * TEXT_SLOT, (size_t)count * TEXT_SLOT);
}

static int side_set(SideObject *S, double price, double size, const char *t, const int32_t *o) {
    double k = S->bid ? price : -price;
    Py_ssize_t i = side_chunk(S, k);
    if (i < 0) {
        if (size <= 0.0)
            return 0;
        Chunk *C = chunk_new(S);
        if (C == NULL || chunks_insert(S, 0, C) < 0) {
            PyMem_Free(C);
            return -1;
        }
        i = 0;
    }
    Chunk *C = S->c[i];
    int j = (int)lower_bound(C->key, C->n, k);
    if (j < C->n && C->key[j] == k) {
        if (size > 0.0) {
            C->size[j] = size;
            if (S->texts)
                put_text(C, j, t, o);
            return 0;
        }
        /* size 0 removes the level */
        chunk_move(S, C, j, j + 1, C->n - j - 1);
        C->n--;
        S->n--;
        if (C->n == 0)
            chunks_remove(S, i);
        else
            S->last[i] = C->key[C->n - 1];
        return 0;
    }
    if (size <= 0.0)
        return 0;  /* removing an absent level is legal */
    if (C->n == CHUNK) {  /* split: the upper half into a new chunk after this one */
        Chunk *D = chunk_new(S);
        if (D == NULL)
            return -1;
        int half = CHUNK / 2;
        D->n = CHUNK - half;
        memcpy(D->key, C->key + half, (size_t)D->n * sizeof(double));
        memcpy(D->size, C->size + half, (size_t)D->n * sizeof(double));
        if (S->texts)
            memcpy(D->text, C->text + (size_t)half * TEXT_SLOT, (size_t)D->n * TEXT_SLOT);
        C->n = half;
        if (chunks_insert(S, i + 1, D) < 0) {
            C->n = CHUNK;
            PyMem_Free(D);
            return -1;
        }
        S->last[i] = C->key[C->n - 1];
        if (j > half) {
            C = D;
            j -= half;
            i++;
        }
    }
    chunk_move(S, C, j + 1, j, C->n - j);
    C->key[j] = k;
    C->size[j] = size;
    if (S->texts)
        put_text(C, j, t, o);
    C->n++;
    S->n++;
    S->last[i] = C->key[C->n - 1];
    return 0;
}

/* The source text of levels whose texts a side keeps (NULL when it keeps none or they have none);
   every level's text must fit its slot, checked before anything is applied. */
static int side_texts_open(SideObject *S, LevelsObject *L, Text *t, const char **out) {
    *out = NULL;
    if (!S->texts || L->src == Py_None)
        return 0;
    for (Py_ssize_t i = 0; i < L->n; i++) {
        if (L->off[4 * i + 1] + 1 + L->off[4 * i + 3] >= TEXT_SLOT) {
            PyErr_SetString(PyExc_ValueError, "levels: a level's text is too long");
            return -1;
        }
    }
    if (text_open(L->src, t) < 0)
        return -1;
    *out = t->p;
    return 0;
}

/* Any levels as (price, size) pairs: a Levels as it is, else a sequence of pairs read into one. */
static LevelsObject *as_levels(PyObject *obj) {
    if (PyObject_TypeCheck(obj, &LevelsType)) {
        Py_INCREF(obj);
        return (LevelsObject *)obj;
    }
    PyObject *seq = PySequence_Fast(obj, "levels: not a sequence of (price, size)");
    if (seq == NULL)
        return NULL;
    LevelsObject *L = levels_new(Py_None);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), cap = 0;
    if (L == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PySequence_Fast(PySequence_Fast_GET_ITEM(seq, i), "levels: a level is not a pair");
        if (pair == NULL)
            goto error;
        if (PySequence_Fast_GET_SIZE(pair) != 2) {
            Py_DECREF(pair);
            PyErr_SetString(PyExc_ValueError, "levels: a level is not a pair");
            goto error;
        }
        double p = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(pair, 0));
        double z = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(pair, 1));
        Py_DECREF(pair);
        if (PyErr_Occurred())
            goto error;
        if (L->n == cap && grow(L, &cap) < 0) {
            PyErr_NoMemory();
            goto error;
        }
        L->v[2 * L->n] = p;
        L->v[2 * L->n + 1] = z;
        memset(L->off + 4 * L->n, 0, 4 * sizeof(int32_t));
        L->n++;
    }
    Py_DECREF(seq);
    return L;
error:
    Py_DECREF(seq);
    Py_XDECREF(L);
    return NULL;
}

static PyObject *Side_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    int bid, texts = 0;
    if (!PyArg_ParseTuple(args, "p|p", &bid, &texts))
        return NULL;
    SideObject *S = (SideObject *)type->tp_alloc(type, 0);
    if (S == NULL)
        return NULL;
    S->n = S->nc = S->capc = 0;
    S->c = NULL;
    S->last = NULL;
    S->bid = bid;
    S->texts = texts;
    return (PyObject *)S;
}

static void Side_dealloc(SideObject *S) {
    side_free(S);
    PyMem_Free(S->c);
    PyMem_Free(S->last);
    Py_TYPE(S)->tp_free((PyObject *)S);
}

static Py_ssize_t Side_len(SideObject *S) { return S->n; }

/* apply(levels): absolute sizes per price, size 0 removes. */
static PyObject *Side_apply(SideObject *S, PyObject *levels) {
    LevelsObject *L = as_levels(levels);
    if (L == NULL)
        return NULL;
    Text t;
    const char *src;
    if (side_texts_open(S, L, &t, &src) < 0) {
        Py_DECREF(L);
        return NULL;
    }
    int err = 0;
    for (Py_ssize_t i = 0; i < L->n && !err; i++)
        err = side_set(S, L->v[2 * i], L->v[2 * i + 1], src, L->off + 4 * i) < 0;
    if (src != NULL)
        text_close(&t);
    Py_DECREF(L);
    if (err)
        return NULL;
    Py_RETURN_NONE;
}

typedef struct {
    double key, size;
    Py_ssize_t at;
} Entry;

static int entry_cmp(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->at < y->at ? -1 : (x->at > y->at);
}

/* replace(levels): the side becomes these levels (a price given twice: the later one). Chunks are
   filled to three quarters, leaving room for the levels to come. */
static PyObject *Side_replace(SideObject *S, PyObject *levels) {
    LevelsObject *L = as_levels(levels);
    if (L == NULL)
        return NULL;
    Entry *e = PyMem_Malloc((size_t)(L->n ? L->n : 1) * sizeof(Entry));
    if (e == NULL) {
        Py_DECREF(L);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < L->n; i++) {
        e[i].key = S->bid ? L->v[2 * i] : -L->v[2 * i];
        e[i].size = L->v[2 * i + 1];
        e[i].at = i;
    }
    qsort(e, (size_t)L->n, sizeof(Entry), entry_cmp);
    Text t;
    const char *src;
    if (side_texts_open(S, L, &t, &src) < 0) {
        PyMem_Free(e);
        Py_DECREF(L);
        return NULL;
    }
    side_free(S);
    Chunk *C = NULL;
    int err = 0;
    for (Py_ssize_t i = 0; i < L->n && !err; i++) {
        if (i + 1 < L->n && e[i + 1].key == e[i].key)
            continue;  /* a later entry for the same price wins */
        if (!(e[i].size > 0.0))
            continue;
        if (C == NULL || C->n == CHUNK * 3 / 4) {
            C = chunk_new(S);
            if (C == NULL || chunks_insert(S, S->nc, C) < 0) {
                PyMem_Free(C);
                err = 1;
                break;
            }
        }
        C->key[C->n] = e[i].key;
        C->size[C->n] = e[i].size;
        if (S->texts)
            put_text(C, C->n, src, L->off + 4 * e[i].at);
        C->n++;
        S->n++;
        S->last[S->nc - 1] = e[i].key;
    }
    if (src != NULL)
        text_close(&t);
    PyMem_Free(e);
    Py_DECREF(L);
    if (err)
        return NULL;
    Py_RETURN_NONE;
}

/* best() -> the touch price, NaN when the side is empty */
static PyObject *Side_best(SideObject *S, PyObject *unused) {
    if (S->n == 0)
        return PyFloat_FromDouble(Py_NAN);
    double k = S->last[S->nc - 1];
    return PyFloat_FromDouble(S->bid ? k : -k);
}

/* top(n) -> [(price, size)], the best first */
static PyObject *Side_top(SideObject *S, PyObject *arg) {
    Py_ssize_t want = PyLong_AsSsize_t(arg);
    if (want == -1 && PyErr_Occurred())
        return NULL;
    if (want < 0)
        want = 0;
    if (want > S->n)
        want = S->n;
    PyObject *out = PyList_New(want);
    if (out == NULL)
        return NULL;
    Py_ssize_t ci = S->nc - 1;
    int j = ci >= 0 ? S->c[ci]->n - 1 : -1;
    for (Py_ssize_t got = 0; got < want; got++) {
        while (j < 0) {
            ci--;
            j = S->c[ci]->n - 1;
        }
        Chunk *C = S->c[ci];
        PyObject *p = PyFloat_FromDouble(S->bid ? C->key[j] : -C->key[j]);
        PyObject *z = PyFloat_FromDouble(C->size[j]);
        PyObject *tup = (p && z) ? PyTuple_New(2) : NULL;
        if (tup == NULL) {
            Py_XDECREF(p);
            Py_XDECREF(z);
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(tup, 0, p);
        PyTuple_SET_ITEM(tup, 1, z);
        PyList_SET_ITEM(out, got, tup);
        j--;
    }
    return out;
}

/* size_at(price) -> the resting size there, 0.0 when none */
static PyObject *Side_size_at(SideObject *S, PyObject *arg) {
    double p = PyFloat_AsDouble(arg);
    if (p == -1.0 && PyErr_Occurred())
        return NULL;
    double k = S->bid ? p : -p;
    Py_ssize_t i = side_chunk(S, k);
    if (i < 0)
        return PyFloat_FromDouble(0.0);
    Chunk *C = S->c[i];
    Py_ssize_t j = lower_bound(C->key, C->n, k);
    return PyFloat_FromDouble(j < C->n && C->key[j] == k ? C->size[j] : 0.0);
}

/* trim(keep): drop the levels farthest from the touch beyond `keep` */
static PyObject *Side_trim(SideObject *S, PyObject *arg) {
    Py_ssize_t keep = PyLong_AsSsize_t(arg);
    if (keep == -1 && PyErr_Occurred())
        return NULL;
    if (keep < 0)
        keep = 0;
    Py_ssize_t drop = S->n - keep;
    while (drop > 0 && S->nc > 0) {
        Chunk *C = S->c[0];
        if (C->n <= drop) {
            drop -= C->n;
            S->n -= C->n;
            chunks_remove(S, 0);
        } else {
            chunk_move(S, C, 0, (int)drop, C->n - (int)drop);
            C->n -= (int)drop;
            S->n -= drop;
            drop = 0;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *Side_clear(SideObject *S, PyObject *unused) {
    side_free(S);
    Py_RETURN_NONE;
}

/* CRC-32 (the zlib polynomial, reflected), table built on first use */
static uint32_t CRC_TABLE[256];

static uint32_t crc32_update(uint32_t crc, const char *p, size_t n) {
    if (CRC_TABLE[1] == 0) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            CRC_TABLE[i] = c;
        }
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = CRC_TABLE[(crc ^ (uint8_t)p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* the texts of a side's best levels, the best first */
typedef struct {
    SideObject *S;
    Py_ssize_t ci;
    int j;
} Cursor;

static const char *cursor_next(Cursor *cur) {
    while (cur->j < 0) {
        if (--cur->ci < 0)
            return NULL;
        cur->j = cur->S->c[cur->ci]->n - 1;
    }
    return cur->S->c[cur->ci]->text + (size_t)(cur->j--) * TEXT_SLOT;
}

/* checksum(bids, asks, n) -> Bitget's signed CRC32: the best n bids and asks interleaved, each
   "price:size" as sent, joined by ":" (both sides must keep texts) */
static PyObject *levels_checksum(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyObject_TypeCheck(args[0], &SideType) || !PyObject_TypeCheck(args[1], &SideType)) {
        PyErr_SetString(PyExc_TypeError, "checksum(bids: Side, asks: Side, n: int)");
        return NULL;
    }
    SideObject *B = (SideObject *)args[0], *A = (SideObject *)args[1];
    Py_ssize_t want = PyLong_AsSsize_t(args[2]);
    if (want == -1 && PyErr_Occurred())
        return NULL;
    if (!B->texts || !A->texts) {
        PyErr_SetString(PyExc_ValueError, "checksum: the sides keep no texts");
        return NULL;
    }
    Py_ssize_t nb = want < B->n ? want : B->n, na = want < A->n ? want : A->n;
    Cursor cb = {B, B->nc, -1}, ca = {A, A->nc, -1};
    uint32_t crc = 0;
    int first = 1;
    for (Py_ssize_t j = 0; j < (nb > na ? nb : na); j++) {
        for (int side = 0; side < 2; side++) {
            if (j >= (side ? na : nb))
                continue;
            const char *slot = cursor_next(side ? &ca : &cb);
            if (!first)
                crc = crc32_update(crc, ":", 1);
            crc = crc32_update(crc, slot + 1, (size_t)(unsigned char)slot[0]);
            first = 0;
        }
    }
    return PyLong_FromLong(crc >= 0x80000000u ? (long)crc - 0x100000000L : (long)crc);
}

static PySequenceMethods Side_as_sequence = {.sq_length = (lenfunc)Side_len};

static PyMethodDef Side_methods[] = {
    {"apply", (PyCFunction)Side_apply, METH_O, "absolute sizes per price; size 0 removes the level"},
    {"replace", (PyCFunction)Side_replace, METH_O, "the side becomes these levels"},
    {"best", (PyCFunction)Side_best, METH_NOARGS, "the touch price (NaN: empty)"},
    {"top", (PyCFunction)Side_top, METH_O, "the best n levels, the best first"},
    {"size_at", (PyCFunction)Side_size_at, METH_O, "the size at a price (0.0: none)"},
    {"trim", (PyCFunction)Side_trim, METH_O, "keep the n levels nearest the touch"},
    {"clear", (PyCFunction)Side_clear, METH_NOARGS, "no levels"},
    {NULL},
};

static PyTypeObject SideType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "orderflow_tui._depth.Side",
    .tp_basicsize = sizeof(SideObject),
    .tp_dealloc = (destructor)Side_dealloc,
    .tp_as_sequence = &Side_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Side(is_bid, texts=False): one side of a book, price -> size, sorted with the touch last; "
              "with texts, each level's text as sent (Bitget's checksum).",
    .tp_methods = Side_methods,
    .tp_new = Side_new,
};

/* configure(price_min, price_max, qty_max): the ranges of venues/common.py, set once at import. */
static PyObject *levels_configure(PyObject *mod, PyObject *args) {
    if (!PyArg_ParseTuple(args, "ddd", &PRICE_MIN, &PRICE_MAX, &QTY_MAX))
        return NULL;
    Py_RETURN_NONE;
}

/* ---- the Levels type: a read-only sequence of (price, size) tuples ---- */

static void Levels_dealloc(LevelsObject *L) {
    PyMem_Free(L->v);
    PyMem_Free(L->off);
    Py_XDECREF(L->src);
    PyObject_Free(L);
}

static Py_ssize_t Levels_len(LevelsObject *L) { return L->n; }

static PyObject *Levels_item(LevelsObject *L, Py_ssize_t i) {
    if (i < 0 || i >= L->n) {
        PyErr_SetString(PyExc_IndexError, "level index out of range");
        return NULL;
    }
    PyObject *p = PyFloat_FromDouble(L->v[2 * i]), *s = PyFloat_FromDouble(L->v[2 * i + 1]);
    PyObject *t = (p && s) ? PyTuple_New(2) : NULL;
    if (t == NULL) {
        Py_XDECREF(p);
        Py_XDECREF(s);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, p);
    PyTuple_SET_ITEM(t, 1, s);
    return t;
}

/* texts() -> ["price:size", ...]: each level's two strings as the venue sent them (Bitget's CRC) */
static PyObject *Levels_texts(LevelsObject *L, PyObject *unused) {
    Text t;
    if (text_open(L->src, &t) < 0)
        return NULL;
    PyObject *out = PyList_New(L->n);
    if (out == NULL) {
        text_close(&t);
        return NULL;
    }
    char buf[160];
    for (Py_ssize_t i = 0; i < L->n; i++) {
        int32_t *o = L->off + 4 * i;
        if (o[1] + o[3] + 1 > (int32_t)sizeof buf) {
            PyErr_SetString(PyExc_ValueError, "levels: number too long");
            goto error;
        }
        memcpy(buf, t.p + o[0], (size_t)o[1]);
        buf[o[1]] = ':';
        memcpy(buf + o[1] + 1, t.p + o[2], (size_t)o[3]);
        PyObject *s = PyUnicode_DecodeASCII(buf, o[1] + 1 + o[3], NULL);
        if (s == NULL)
            goto error;
        PyList_SET_ITEM(out, i, s);
    }
    text_close(&t);
    return out;
error:
    text_close(&t);
    Py_DECREF(out);
    return NULL;
}

static PyObject *Levels_richcompare(PyObject *a, PyObject *b, int op) {
    /* equal to a list of (price, size) tuples or another Levels with the same values */
    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *la = PySequence_List(a), *lb = la ? PySequence_List(b) : NULL;
    if (lb == NULL) {
        Py_XDECREF(la);
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject *r = PyObject_RichCompare(la, lb, op);
    Py_DECREF(la);
    Py_DECREF(lb);
    return r;
}

static PyObject *Levels_repr(LevelsObject *L) {
    PyObject *lst = PySequence_List((PyObject *)L);
    if (lst == NULL)
        return NULL;
    PyObject *r = PyUnicode_FromFormat("Levels(%R)", lst);
    Py_DECREF(lst);
    return r;
}

static PySequenceMethods Levels_as_sequence = {
    .sq_length = (lenfunc)Levels_len,
    .sq_item = (ssizeargfunc)Levels_item,
};

static PyMethodDef Levels_methods[] = {
    {"texts", (PyCFunction)Levels_texts, METH_NOARGS, "each level's price and size text, 'price:size'"},
    {NULL},
};

static PyTypeObject LevelsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "orderflow_tui._depth.Levels",
    .tp_basicsize = sizeof(LevelsObject),
    .tp_dealloc = (destructor)Levels_dealloc,
    .tp_repr = (reprfunc)Levels_repr,
    .tp_as_sequence = &Levels_as_sequence,
    .tp_richcompare = Levels_richcompare,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A venue's depth levels: (price, size) pairs as packed doubles.",
    .tp_methods = Levels_methods,
};

static PyMethodDef module_methods[] = {
    {"parse", (PyCFunction)(void (*)(void))levels_parse, METH_FASTCALL, "parse(text, mult=1.0, inverse=False) -> Levels"},
    {"parse_changes", (PyCFunction)(void (*)(void))levels_parse_changes, METH_FASTCALL,
     "parse_changes(text, mult=1.0) -> (bids, asks)"},
    {"configure", levels_configure, METH_VARARGS, "configure(price_min, price_max, qty_max)"},
    {"checksum", (PyCFunction)(void (*)(void))levels_checksum, METH_FASTCALL, "checksum(bids, asks, n) -> Bitget's CRC32"},
    {NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_depth", NULL, -1, module_methods};

PyMODINIT_FUNC PyInit__depth(void) {
    if (PyType_Ready(&LevelsType) < 0 || PyType_Ready(&SideType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&LevelsType);
    if (PyModule_AddObject(m, "Levels", (PyObject *)&LevelsType) < 0) {
        Py_DECREF(&LevelsType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&SideType);
    if (PyModule_AddObject(m, "Side", (PyObject *)&SideType) < 0) {
        Py_DECREF(&SideType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

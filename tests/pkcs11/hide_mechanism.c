/*
 * A PKCS#11 module for bootsign's tests (tests/pkcs11.rs compiles it with gcc): SoftHSM2
 * itself, but with one mechanism left out of the list C_GetMechanismList gives, the one
 * whose number PKCS11_SHIM_HIDE holds. It stands for a token that lacks a mechanism,
 * which SoftHSM2 (having them all) cannot be.
 */
#include <dlfcn.h>
#include <stdlib.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef struct {
    unsigned char major, minor;
} CK_VERSION;

/* CK_FUNCTION_LIST of PKCS#11 2.40: the version, then its 68 functions in order;
 * C_GetMechanismList is the eighth. */
typedef struct {
    CK_VERSION version;
    void *functions[68];
} FUNCTION_LIST;

#define GET_MECHANISM_LIST 7
#define CKR_GENERAL_ERROR 0x5UL
#define CKR_BUFFER_TOO_SMALL 0x150UL

static FUNCTION_LIST list;
static CK_RV (*real_get_mechanism_list)(CK_SLOT_ID, CK_MECHANISM_TYPE *, CK_ULONG *);

static CK_RV get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE *out, CK_ULONG *count)
{
    CK_ULONG n = 0, kept = 0;
    CK_RV rv = real_get_mechanism_list(slot, NULL, &n);
    if (rv != 0)
        return rv;
    CK_MECHANISM_TYPE *all = calloc(n ? n : 1, sizeof *all);
    if (all == NULL)
        return CKR_GENERAL_ERROR;
    rv = real_get_mechanism_list(slot, all, &n);
    if (rv != 0) {
        free(all);
        return rv;
    }
    const char *hide_text = getenv("PKCS11_SHIM_HIDE");
    CK_MECHANISM_TYPE hide = strtoul(hide_text ? hide_text : "0", NULL, 0);
    for (CK_ULONG i = 0; i < n; i++) {
        if (all[i] == hide)
            continue;
        if (out != NULL && kept < *count)
            out[kept] = all[i];
        kept++;
    }
    free(all);
    if (out != NULL && kept > *count) {
        *count = kept;
        return CKR_BUFFER_TOO_SMALL;
    }
    *count = kept;
    return 0;
}

CK_RV C_GetFunctionList(FUNCTION_LIST **out)
{
    void *softhsm = dlopen("/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
    if (softhsm == NULL)
        return CKR_GENERAL_ERROR;
    CK_RV (*get)(FUNCTION_LIST **) = (CK_RV (*)(FUNCTION_LIST **))dlsym(softhsm, "C_GetFunctionList");
    FUNCTION_LIST *real;
    if (get == NULL || get(&real) != 0)
        return CKR_GENERAL_ERROR;
    list = *real;
    real_get_mechanism_list = (CK_RV (*)(CK_SLOT_ID, CK_MECHANISM_TYPE *, CK_ULONG *))list.functions[GET_MECHANISM_LIST];
    list.functions[GET_MECHANISM_LIST] = (void *)get_mechanism_list;
    *out = &list;
    return 0;
}

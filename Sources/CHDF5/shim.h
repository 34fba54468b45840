// libhdf5 (Debian's serial build, libhdf5-dev). HDF5 names its predefined types and file flags
// with macros that call H5open(), which Swift cannot import; these functions stand for them.
#include <hdf5/serial/hdf5.h>

static inline hid_t vs_h5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t vs_h5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t vs_h5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t vs_h5_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t vs_h5_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t vs_h5_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t vs_h5_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t vs_h5_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t vs_h5_c_s1(void) { return H5T_C_S1; }
static inline hid_t vs_h5_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t vs_h5_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t vs_h5_default(void) { return H5P_DEFAULT; }   // also H5S_ALL
static inline unsigned vs_h5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned vs_h5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline size_t vs_h5_variable(void) { return H5T_VARIABLE; }

// Turns off HDF5's printing of its error stack to stderr (for the calling thread, in a
// thread-safe build): callers report errors themselves.
static inline void vs_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// The constants of the activation kernels' exp (Cephes' range reduction and degree-6
// polynomial) and erf (Abramowitz & Stegun 7.1.26), shared by Activations.c and Gemm.c (which
// applies GELU as it writes a dense layer's output). Internal to CVectorKernels.
#ifndef VS_ACTIVATION_CONSTANTS_H
#define VS_ACTIVATION_CONSTANTS_H

#define EXP_LOW (-87.3f)
#define EXP_HIGH 88.3f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f
#define ERF_P 0.3275911f
#define ERF_A1 0.254829592f
#define ERF_A2 (-0.284496736f)
#define ERF_A3 1.421413741f
#define ERF_A4 (-1.453152027f)
#define ERF_A5 1.061405429f
#define SQRT1_2 0.70710678118654752f

#endif

// What math needs beyond lib/libm_dbl: log2, and sqrt in hardware.

#include <math.h>

double log2(double x) {
    if (!(x > 0) || isinf(x)) {
        return log(x) * M_LOG2E; // nan, -inf, inf as log gives them
    }
    int e;
    double m = frexp(x, &e); // x = m * 2**e, 0.5 <= m < 1
    if (m == 0.5) {
        return e - 1; // exact for powers of two
    }
    return e + log(m) * M_LOG2E;
}

// SSE2's sqrtsd gives the correctly rounded root that lib/libm_dbl's sqrt.c computes bit by
// bit (a loop of some 54 rounds, costly under QEMU's TCG: abs() of every complex uses it).
// Not __builtin_sqrt: with errno semantics gcc would call sqrt() back for negative input.
double sqrt(double x) {
    __asm__("sqrtsd %1, %0" : "=x"(x) : "x"(x));
    return x;
}

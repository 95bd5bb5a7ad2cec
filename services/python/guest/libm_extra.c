// What math needs beyond lib/libm_dbl: log2.

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

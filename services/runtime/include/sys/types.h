#pragma once
#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;
typedef long pid_t;
typedef long off_t;
typedef long time_t;
typedef long suseconds_t;
typedef unsigned int mode_t;

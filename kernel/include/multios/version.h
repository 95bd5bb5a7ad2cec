#pragma once
#define MULTIOS_VERSION "0.1.0"

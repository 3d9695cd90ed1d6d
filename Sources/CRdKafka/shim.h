#ifndef BALLAST_CRDKAFKA_SHIM_H
#define BALLAST_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#endif

#ifndef BALLAST_CRDKAFKA_SHIM_H
#define BALLAST_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stddef.h>

// Helpers for what Swift cannot call comfortably: C callbacks and fixed-size error buffers.

/// librdkafka logs to stderr by default; Ballast reports errors itself, so the handle stays quiet.
static void ballast_rd_kafka_silent_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk; (void)level; (void)fac; (void)buf;
}

static void ballast_rd_kafka_silent_error(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    (void)rk; (void)err; (void)reason; (void)opaque;
}

static inline void ballast_rd_kafka_conf_silence(rd_kafka_conf_t *conf) {
    rd_kafka_conf_set_log_cb(conf, ballast_rd_kafka_silent_log);
    rd_kafka_conf_set_error_cb(conf, ballast_rd_kafka_silent_error);
}

/// Sets one property; on failure copies librdkafka's reason into `errstr` and returns non-zero.
static inline int ballast_rd_kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                                            char *errstr, size_t errstr_size) {
    return rd_kafka_conf_set(conf, name, value, errstr, errstr_size) == RD_KAFKA_CONF_OK ? 0 : 1;
}

/// The partition at `index` of a topic in a metadata result.
static inline const rd_kafka_metadata_partition_t *
ballast_rd_kafka_metadata_partition(const rd_kafka_metadata_topic_t *topic, int index) {
    return &topic->partitions[index];
}

static inline const rd_kafka_metadata_topic_t *
ballast_rd_kafka_metadata_topic(const struct rd_kafka_metadata *md, int index) {
    return &md->topics[index];
}

static inline const rd_kafka_metadata_broker_t *
ballast_rd_kafka_metadata_broker(const struct rd_kafka_metadata *md, int index) {
    return &md->brokers[index];
}

#endif

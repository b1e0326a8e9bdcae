/* Slot header round trips, validation, and the two-copy protection
 * against a torn header write. */
#include "test_util.h"

#include "crc32c.h"
#include "le.h"
#include "slot_header.h"

#define HSZ sizeof(struct dl_slot_hdr_disk)

static uint8_t uuid[16];
static uint8_t a[4096], b[4096];

static void make(struct dl_slot_hdr *h, uint64_t hdr_seq)
{
	test_uuid(uuid, 4);
	dl_slot_hdr_init_free(h, uuid, 3, hdr_seq);
	h->node_id = 7;
	h->state = DL_SLOT_ACTIVE;
	h->generation = 5;
	h->last_seq = 1234;
	strcpy(h->node_name, "node-seven");
	assert_int_equal(dl_slot_hdr_set_ack(h, 1, 99), 0);
	assert_int_equal(dl_slot_hdr_set_ack(h, 2, 98), 0);
	assert_int_equal(dl_slot_hdr_set_ack(h, 1, 100), 0);
}

static void reseal(uint8_t *p)
{
	dl_put32(p + offsetof(struct dl_slot_hdr_disk, crc32c),
		 dl_crc32c(0, p, offsetof(struct dl_slot_hdr_disk, crc32c)));
}

static void expect(const uint8_t *p, enum dl_err e)
{
	struct dl_slot_hdr out;
	enum dl_err why = DL_OK;

	assert_int_equal(dl_slot_hdr_decode(p, HSZ, uuid, 3, &out, &why), -1);
	assert_int_equal(why, e);
}

static void test_round_trip(void **state)
{
	struct dl_slot_hdr h, out;
	enum dl_err why;

	(void)state;
	make(&h, 4);
	assert_int_equal(h.ack_count, 2);
	assert_int_equal(dl_slot_hdr_encode(&h, a, sizeof(a), &why), 0);
	assert_int_equal(dl_slot_hdr_decode(a, HSZ, uuid, 3, &out, &why), 0);
	assert_memory_equal(&h, &out, sizeof(h));
}

static void test_errors(void **state)
{
	struct dl_slot_hdr h, out;
	enum dl_err why;
	uint8_t other[16];

	(void)state;
	memset(a, 0, sizeof(a));
	expect(a, DL_E_EMPTY);
	make(&h, 4);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	a[100] ^= 0x40;
	expect(a, DL_E_CRC);

	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	memcpy(other, uuid, 16);
	other[0] ^= 1;
	assert_int_equal(dl_slot_hdr_decode(a, HSZ, other, 3, &out, &why), -1);
	assert_int_equal(why, DL_E_UUID);
	assert_int_equal(dl_slot_hdr_decode(a, HSZ, uuid, 4, &out, &why), -1);
	assert_int_equal(why, DL_E_SLOT_INDEX);

	dl_put32(a + offsetof(struct dl_slot_hdr_disk, node_id), 70000);
	reseal(a);
	expect(a, DL_E_NODE_ID);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	dl_put32(a + offsetof(struct dl_slot_hdr_disk, node_id), 0);
	reseal(a);
	expect(a, DL_E_STATE);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	dl_put32(a + offsetof(struct dl_slot_hdr_disk, state), 9);
	reseal(a);
	expect(a, DL_E_STATE);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	dl_put32(a + offsetof(struct dl_slot_hdr_disk, role), 9);
	reseal(a);
	expect(a, DL_E_ROLE);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	dl_put32(a + offsetof(struct dl_slot_hdr_disk, ack_count), 500);
	reseal(a);
	expect(a, DL_E_ACKS);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	dl_put32(a + offsetof(struct dl_slot_hdr_disk, acks) + 16, 1); /* duplicate peer */
	reseal(a);
	expect(a, DL_E_ACKS);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	memset(a + offsetof(struct dl_slot_hdr_disk, node_name), 'n', DL_NODE_NAME_MAX);
	reseal(a);
	expect(a, DL_E_NAME);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	a[offsetof(struct dl_slot_hdr_disk, reserved)] = 1;
	reseal(a);
	expect(a, DL_E_RESERVED);
	dl_slot_hdr_encode(&h, a, sizeof(a), &why);
	dl_put32(a, 0x12345678);
	expect(a, DL_E_MAGIC);

	/* The encoder refuses what the decoder would refuse. */
	h.state = DL_SLOT_FREE;
	assert_int_equal(dl_slot_hdr_encode(&h, a, sizeof(a), &why), -1);
	assert_int_equal(why, DL_E_STATE);
}

static void test_two_copies(void **state)
{
	struct dl_slot_hdr h, out;
	enum dl_err wa, wb;

	(void)state;
	make(&h, 6);
	dl_slot_hdr_encode(&h, a, sizeof(a), NULL);
	h.hdr_seq = 7;
	h.last_seq = 2000;
	dl_slot_hdr_encode(&h, b, sizeof(b), NULL);
	assert_int_equal(dl_slot_hdr_pick(a, b, HSZ, uuid, 3, &out, &wa, &wb), 0);
	assert_int_equal(out.hdr_seq, 7);
	assert_int_equal(out.last_seq, 2000);

	/* The newest copy torn (only its first sector landed): the older
	 * copy is used, nothing is lost. */
	memset(b + 512, 0xaa, HSZ - 512);
	assert_int_equal(dl_slot_hdr_pick(a, b, HSZ, uuid, 3, &out, &wa, &wb), 0);
	assert_int_equal(out.hdr_seq, 6);
	assert_int_equal(out.last_seq, 1234);
	assert_int_equal(wa, DL_OK);
	assert_int_equal(wb, DL_E_CRC);

	/* A copy in the wrong place (odd seq in copy A) is not trusted. */
	h.hdr_seq = 9;
	dl_slot_hdr_encode(&h, a, sizeof(a), NULL);
	assert_int_equal(dl_slot_hdr_pick(a, b, HSZ, uuid, 3, &out, &wa, &wb), -1);
	assert_int_equal(wa, DL_E_SEQ);
}

/* A predecessor's header write that lands late (a killed or abandoned
 * I/O child) carries an older generation: its successor's copy wins,
 * whatever the header sequence numbers say. */
static void test_generation_first(void **state)
{
	struct dl_slot_hdr h, out;

	(void)state;
	make(&h, 8);
	h.generation = 6;              /* the successor, in copy A */
	h.last_seq = 3000;
	dl_slot_hdr_encode(&h, a, sizeof(a), NULL);
	h.hdr_seq = 11;                /* the late write, in copy B */
	h.generation = 5;
	h.last_seq = 2000;
	dl_slot_hdr_encode(&h, b, sizeof(b), NULL);
	assert_int_equal(dl_slot_hdr_pick(a, b, HSZ, uuid, 3, &out, NULL, NULL), 0);
	assert_int_equal(out.generation, 6);
	assert_int_equal(out.hdr_seq, 8);
	assert_int_equal(out.last_seq, 3000);
	/* The same generation: the higher header sequence, as before. */
	h.generation = 6;
	dl_slot_hdr_encode(&h, b, sizeof(b), NULL);
	assert_int_equal(dl_slot_hdr_pick(a, b, HSZ, uuid, 3, &out, NULL, NULL), 0);
	assert_int_equal(out.hdr_seq, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_two_copies),
		cmocka_unit_test(test_generation_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

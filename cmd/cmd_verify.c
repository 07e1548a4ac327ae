/*
 * lookout verify: walks the hash chain.
 */
#include "cli.h"

#include <stdio.h>

static const char verify_help[] =
"usage: lookout verify [ID]\n"
"\n"
"Recomputes the hash chain of the timeline (up to incident ID's last event)\n"
"and names the first event that was edited, deleted or inserted out of\n"
"order, then the first run whose runs or steps rows differ from its\n"
"events.  Without ID it compares the chain's head with the last head the\n"
"journal witnessed, and says how many events follow it, or that it is\n"
"missing (the newest events were deleted); without a journal to read it\n"
"says so.  Exit 0 when the chain holds, 1 when it is broken.\n";

static int
cmd_verify(struct cli *cli, int argc, char **argv)
{
	struct store_verify_report r;
	struct store *s = NULL;
	struct lk_err err = { 0 };
	int64_t id = 0;
	int rc;

	if ((rc = cli_parse_opts("verify", argc, argv, "", cli_no_opts, cli_no_opt,
	    NULL)) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage("verify takes at most one incident ID");
	if (argc - optind == 1 && cli_parse_id("incident id", argv[optind], &id, &err) != LK_OK)
		return cli_error(&err);
	/* A missing timeline is not one that verifies: it may be one that
	 * was deleted. */
	if (cli_read_store(cli, &s, &err) != LK_OK)
		return cli_error(&err);
	if (store_verify(s, id, &r, &err) != LK_OK) {
		rc = cli_error(&err);
	} else if (r.ok) {
		printf("ok: %lld events verified in %s, last hash %s\n",
		    (long long)r.checked, store_path(s), r.head_hash);
		if (r.witness[0] != '\0')
			printf("witness: %s\n", r.witness);
		rc = 0;
	} else {
		printf("BROKEN: %s\n", r.reason);
		fprintf(stderr, "lookout: verify %s: %s\n", store_path(s),
		    r.reason);
		rc = 1;
	}
	store_close(&s);
	return rc;
}


const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.group = CMD_GROUP_TIMELINE,
	.usage = "verify [ID]",
	.help = verify_help,
	.exec = cmd_verify,
};

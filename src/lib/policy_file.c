/* policy_file.c - being written (issue 4). */
typedef int gcmsg__wip_policy_file;

/* response_file.c - being written (issue 3). */
typedef int gcmsg__wip_response_file;

/* detectors.c - being written (issue 4). */
typedef int gcmsg__wip_detectors;

#!/usr/bin/env bash
# rgw-users.sh - the four store users of deploy/s3-policy.json on a Ceph RGW, then the policy.
#   deploy/rgw-users.sh [RADOSGW_ADMIN_ARGS...]     e.g. deploy/rgw-users.sh -c /etc/ceph/ceph.conf
# Prints each user's access and secret key once (give each to the hosts of its role:
# ingest = dock and analysis hosts, reader = clerks, inspectors, auditors, holds = supervisors,
# retention = the sweep). Safe to run again: existing users are left as they are.
# Then, with the bucket owner's key in the configuration: bodycam roles store-policy --apply
set -euo pipefail
for role in ingest reader holds retention; do
  uid="bodycam-$role"
  if radosgw-admin "$@" user info --uid="$uid" >/dev/null 2>&1; then
    echo "$uid: exists"
  else
    radosgw-admin "$@" user create --uid="$uid" --display-name="bodycam $role key" \
      | python3 -c 'import json,sys; k=json.load(sys.stdin)["keys"][0]; print("%s: access %s secret %s" % (k["user"], k["access_key"], k["secret_key"]))'
  fi
done
echo "now, as the bucket owner: bodycam roles store-policy --apply"

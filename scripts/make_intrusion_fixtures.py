#!/usr/bin/env python3
"""Generate CloudTrail fixtures for multi-step intrusions, a benign background and a manifest.

Writes tests/fixtures/cloudtrail/intrusions/<scenario>.jsonl (one record per line, time-ordered),
intrusions/background.jsonl, intrusions/manifest.json (what a good detector must report), and one
scenario (iam-user-self-escalation) as CloudTrail delivers it to S3: gzip {"Records": [...]} objects under
tests/fixtures/cloudtrail/s3/AWSLogs/... (--s3 writes only those; by default everything is written).
Deterministic (fixed seeds, gzip mtime 0). Python 3 standard library only. Every identifier, key id
and token is random and fake; outside addresses are documentation ranges or invented.
"""
import argparse
import base64
import datetime as dt
import gzip
import ipaddress
import json
import os
import random
import string
import urllib.parse
import uuid

SEED = 20261127
ACCOUNT = "123456789012"
REGION = "us-east-1"
ORG_ACCOUNTS = ["210987654321", "109876543210"]  # the organization's other accounts
EXTERNAL = "444455556666"  # an account outside the organization
DAY = dt.datetime(2026, 11, 25, 0, 0, 0, tzinfo=dt.timezone.utc)

rng = random.Random(SEED)

# ----------------------------------------------------------------------------------------
# identifiers (same helpers as make_cloudtrail_fixtures.py)


def reseed(seed):
    rng.seed(seed)


def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def b32(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))


def alnum_up(n):
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def alnum(n):
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def temp_key():
    return "ASIA" + b32(16)


def long_key():
    return "AKIA" + b32(16)


def role_id():
    return "AROA" + b32(17)


def user_id():
    return "AIDA" + b32(17)


def instance_id():
    return "i-0" + hexs(16)


def session_token():
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(420))).decode()
    return "IQoJb3JpZ2luX2VjE" + body.replace("+", "/")[:540]


def s3_request_id():
    return alnum_up(16)


def amz_id_2():
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(56))).decode()


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def human_time(t):
    return t.strftime("%b %-d, %Y, %-I:%M:%S %p")


def at(h, m=0, s=0.0):
    return DAY + dt.timedelta(hours=h, minutes=m, seconds=s)


def sec(t, s):
    return t + dt.timedelta(seconds=s)


# ----------------------------------------------------------------------------------------
# addresses: AWS-side calls from us-east-1 EC2 ranges; outsiders from documentation ranges
# or invented non-AWS addresses

AWS_NETS = [ipaddress.ip_network(n) for n in ("3.80.0.0/12", "18.204.0.0/14", "34.192.0.0/12",
                                               "44.192.0.0/11", "52.0.0.0/11", "54.144.0.0/12")]


def aws_ip():
    n = rng.choice(AWS_NETS)
    return str(n.network_address + rng.randrange(256, n.num_addresses - 256))


# ----------------------------------------------------------------------------------------
# user agents

UA_LAMBDA_PY = ("Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 md/arch#x86_64 "
                "lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.69")
UA_LAMBDA_NODE = ("aws-sdk-js/3.693.0 ua/2.1 os/linux#5.10.227-239.884.amzn2.x86_64 lang/js md/nodejs#20.18.0 "
                  "api/{svc}#3.693.0 exec-env/AWS_Lambda_nodejs20.x m/E")
UA_WORKER = "awslambda-worker/1.0 rusoto/0.48.0 rust/1.69.0 linux"
UA_ECS = ("Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 "
          "lang/python#3.12.3 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE cfg/retry-mode#legacy Botocore/1.34.69")
UA_ECS_GO = ("aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 "
             "exec-env/AWS_ECS_FARGATE api/{svc}#1.40.0 m/E")
UA_EC2 = ("Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.112-124.190.amzn2023.x86_64 md/arch#x86_64 "
          "lang/python#3.9.16 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69")
UA_EC2_CLI = ("aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.112-124.190.amzn2023.x86_64 md/arch#x86_64 "
              "lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 "
              "md/prompt#off md/command#{cmd}")
UA_SSM_AGENT = "aws-sdk-go/1.44.260 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.987.0"
UA_CLI_MAC = ("aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 "
              "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{cmd}")
UA_CLI_MAC2 = ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 "
               "md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{cmd}")
UA_CLI_KALI = ("aws-cli/2.17.18 md/awscrt#0.20.11 ua/2.0 os/linux#6.6.15-amd64 md/arch#x86_64 lang/python#3.11.9 "
               "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#kali.2024 md/prompt#off md/command#{cmd}")
UA_BOTO_ATTACK = ("Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/linux#6.6.15-amd64 md/arch#x86_64 lang/python#3.11.9 "
                  "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.10")
UA_TF = ("APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 "
         "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.2 "
         "md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.38.1")
UA_SAM = ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6 "
          "md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 "
          "md/prompt#off md/command#cloudformation.deploy")
UA_CONSOLE = "AWS Internal"
UA_BROWSER = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
UA_BROWSER_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/130.0.0.0 Safari/537.36")
UA_BROWSER_FF = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


def cli(ua, cmd):
    return ua.replace("{cmd}", cmd)


# ----------------------------------------------------------------------------------------
# identities


class Role:
    """An IAM role and one of its sessions (stable, so a principal repeats)."""

    def __init__(self, name, session, created=None, path="", ec2=False, mfa=False, account=ACCOUNT,
                 invoked_by=None, web_identity=None, rid=None, key=None):
        self.name, self.session, self.account = name, session, account
        self.rid = rid or role_id()
        self.key = key or temp_key()
        self.created = created or DAY
        self.path, self.ec2, self.mfa, self.invoked_by, self.web_identity = path, ec2, mfa, invoked_by, web_identity

    def renew(self, created, session=None):
        """A new session of the same role (new key)."""
        return Role(self.name, session or self.session, created, self.path, self.ec2, self.mfa, self.account,
                    self.invoked_by, self.web_identity, rid=self.rid)

    @property
    def role_arn(self):
        return f"arn:aws:iam::{self.account}:role/{self.path}{self.name}"

    @property
    def arn(self):
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{self.session}"

    def identity(self):
        ctx = {"sessionIssuer": {"type": "Role", "principalId": self.rid, "arn": self.role_arn,
                                 "accountId": self.account, "userName": self.name},
               "attributes": {"creationDate": ts(self.created), "mfaAuthenticated": "true" if self.mfa else "false"}}
        if self.web_identity:
            ctx["webIdFederationData"] = {"federatedProvider": self.web_identity, "attributes": {}}
        if self.ec2:
            ctx["ec2RoleDelivery"] = "2.0"
        ident = {"type": "AssumedRole", "principalId": f"{self.rid}:{self.session}", "arn": self.arn,
                 "accountId": self.account, "accessKeyId": self.key, "sessionContext": ctx}
        if self.invoked_by:
            ident["invokedBy"] = self.invoked_by
        return ident


class User:
    def __init__(self, name, account=ACCOUNT, key=None):
        self.name, self.account = name, account
        self.uid = user_id()
        self.key = key or long_key()

    @property
    def arn(self):
        return f"arn:aws:iam::{self.account}:user/{self.name}"

    def with_key(self, key):
        u = User.__new__(User)
        u.name, u.account, u.uid, u.key = self.name, self.account, self.uid, key
        return u

    def identity(self):
        return {"type": "IAMUser", "principalId": self.uid, "arn": self.arn, "accountId": self.account,
                "accessKeyId": self.key, "userName": self.name}


class Root:
    arn = f"arn:aws:iam::{ACCOUNT}:root"

    def __init__(self, created=None, mfa=False):
        self.key = temp_key() if created else ""
        self.created, self.mfa = created, mfa

    def identity(self):
        ident = {"type": "Root", "principalId": ACCOUNT, "arn": self.arn, "accountId": ACCOUNT,
                 "accessKeyId": self.key}
        if self.created:
            ident["sessionContext"] = {"attributes": {"creationDate": ts(self.created),
                                                      "mfaAuthenticated": "true" if self.mfa else "false"}}
        return ident


class Service:
    def __init__(self, host):
        self.host, self.arn = host, None

    def identity(self):
        return {"type": "AWSService", "invokedBy": self.host}


def slr(service_host, role_name, session):
    """A service-linked role session; the service calls for itself (ip and UA are the service host)."""
    return Role(role_name, session, path=f"aws-service-role/{service_host}/", invoked_by=service_host)


def sso_role(permission_set, email, suffix, created=None):
    return Role(f"AWSReservedSSO_{permission_set}_{suffix}", email, created=created,
                path="aws-reserved/sso.amazonaws.com/")


def other_account(account, principal_id):
    """How a resource owner's trail shows a caller from another account."""
    return {"type": "AWSAccount", "principalId": principal_id, "accountId": account}


ANONYMOUS = {"type": "AWSAccount", "principalId": "", "accountId": "ANONYMOUS_PRINCIPAL"}

# ----------------------------------------------------------------------------------------
# records


def host_for(source, region):
    svc = source.split(".")[0]
    if svc == "iam":
        return "iam.amazonaws.com"
    if svc == "sts":
        return f"sts.{region}.amazonaws.com"
    if svc == "signin":
        return None
    if svc == "s3":
        return "s3.amazonaws.com"
    return f"{svc}.{region}.amazonaws.com"


def record(who, t, source, name, *, req=None, resp=None, read_only, ip, ua,
           region=REGION, error=None, category="Management", resources=None, additional=None,
           event_type="AwsApiCall", tls_host="auto", request_id=None, console=False,
           recipient=ACCOUNT, version="1.11", shared_event_id=None):
    ident = who.identity() if hasattr(who, "identity") else who
    if ident.get("type") == "AWSService":
        ip = ua = ident["invokedBy"]
    r = {"eventVersion": version, "userIdentity": ident, "eventTime": ts(t), "eventSource": source,
         "eventName": name, "awsRegion": region, "sourceIPAddress": ip, "userAgent": ua}
    if error:
        r["errorCode"], r["errorMessage"] = error
    r["requestParameters"] = req
    r["responseElements"] = resp
    if additional is not None:
        r["additionalEventData"] = additional
    if request_id is not False:
        r["requestID"] = request_id or uid()
    r["eventID"] = uid()
    r["readOnly"] = read_only
    if resources:
        r["resources"] = resources
    r["eventType"] = event_type
    r["managementEvent"] = category == "Management"
    r["recipientAccountId"] = recipient
    if shared_event_id:
        r["sharedEventID"] = shared_event_id
    r["eventCategory"] = category
    if "amazonaws.com" in ip or ip == "AWS Internal":
        tls_host = None
    elif tls_host == "auto":
        tls_host = host_for(source, region)
    if tls_host:
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": tls_host}
    if console:
        r["sessionCredentialFromConsole"] = "true"
    return r


def denied(who, action, resource, kind="identity-based"):
    arn = who.arn if hasattr(who, "arn") else "anonymous"
    return ("AccessDenied", f"User: {arn} is not authorized to perform: {action} on resource: {resource} "
                            f"because no {kind} policy allows the {action} action")


def s3_data(who, t, name, bucket, key=None, *, read_only, ip, ua, extra_req=None, resp=None, error=None,
            bytes_out=0, bytes_in=0, owner=ACCOUNT, anonymous=False):
    req = {"bucketName": bucket, "Host": f"{bucket}.s3.{REGION}.amazonaws.com"}
    if key is not None:
        req["key"] = key
    if extra_req:
        req.update(extra_req)
    if key is not None:
        res = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"}]
    else:
        res = [{"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/"}]
    res.append({"accountId": owner, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"})
    if anonymous:
        add = {"CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": bytes_in,
               "x-amz-id-2": amz_id_2(), "bytesTransferredOut": bytes_out}
    else:
        add = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": bytes_in,
               "AuthenticationMethod": "AuthHeader", "x-amz-id-2": amz_id_2(), "bytesTransferredOut": bytes_out}
    return record(who, t, "s3.amazonaws.com", name, req=req, resp=resp, read_only=read_only, ip=ip, ua=ua,
                  error=error, category="Data", resources=res, additional=add, request_id=s3_request_id(),
                  tls_host=f"{bucket}.s3.{REGION}.amazonaws.com", version="1.10")


def s3_mgmt(who, t, name, bucket=None, req_extra=None, *, read_only=True, ip, ua, error=None, resp=None):
    if bucket:
        req = {"bucketName": bucket, "Host": f"{bucket}.s3.{REGION}.amazonaws.com"}
        res = [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        host = f"{bucket}.s3.{REGION}.amazonaws.com"
    else:
        req, res, host = {"Host": "s3.amazonaws.com"}, None, "s3.amazonaws.com"
    if req_extra:
        req.update(req_extra)
    add = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0,
           "AuthenticationMethod": "AuthHeader", "x-amz-id-2": amz_id_2(), "bytesTransferredOut": 0}
    if "amazonaws.com" in ip:
        host = None
    return record(who, t, "s3.amazonaws.com", name, req=req, resp=resp, read_only=read_only, ip=ip, ua=ua,
                  error=error, resources=res, additional=add, request_id=s3_request_id(), tls_host=host,
                  version="1.10")


def creds_resp(role, t, session_name, duration=3600):
    return {"credentials": {"accessKeyId": temp_key(), "sessionToken": session_token(),
                            "expiration": human_time(t + dt.timedelta(seconds=duration))},
            "assumedRoleUser": {"assumedRoleId": f"{role.rid}:{session_name}",
                                "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}"}}


def policy_json(statements):
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))


def url_policy(statements):
    """A policy document as CloudTrail records the form-encoded IAM parameter."""
    return urllib.parse.quote(policy_json(statements), safe="*")


ADMIN_STMT = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def log_stream(t):
    return t.strftime("%Y/%m/%d/") + "[$LATEST]" + hexs(32)


def worker_log_stream(fn_role, fn, t, ip, error=None):
    """The Lambda service creating the function's log stream with the execution role."""
    return record(fn_role, t, "logs.amazonaws.com", "CreateLogStream",
                  req={"logGroupName": f"/aws/lambda/{fn}", "logStreamName": log_stream(t)},
                  read_only=False, ip=ip, ua=UA_WORKER, error=error)


# ----------------------------------------------------------------------------------------
# scenarios and the manifest


class Scenario:
    def __init__(self, name, summary):
        self.name, self.summary = name, summary
        self.recs, self.steps, self.benign, self.attackers = [], [], [], []

    def ok(self, r):
        """A normal record of the victim workload (or other benign actor): must not alert."""
        self.recs.append(r)
        self.benign.append(r["eventID"])
        return r

    def step(self, stage, what, recs):
        self.recs.extend(recs)
        self.steps.append({"stage": stage, "event_ids": [r["eventID"] for r in recs], "what": what,
                           "_t": min(r["eventTime"] for r in recs)})
        return recs

    def attacker(self, arn=None, keys=(), ips=(), note=None):
        a = {}
        if arn:
            a["arn"] = arn
        if keys:
            a["access_key_ids"] = list(keys)
        if ips:
            a["source_ips"] = list(ips)
        if note:
            a["note"] = note
        self.attackers.append(a)

    def sorted_records(self):
        return sorted(self.recs, key=lambda r: r["eventTime"])

    def manifest(self):
        steps = sorted(self.steps, key=lambda s: s["_t"])
        return {"summary": self.summary, "records": len(self.recs), "attackers": self.attackers,
                "steps": [{"step": i + 1, "stage": s["stage"], "event_ids": s["event_ids"], "what": s["what"]}
                          for i, s in enumerate(steps)],
                "benign_event_ids": self.benign}


def jitter(lo, hi):
    return rng.uniform(lo, hi)


def spread(t0, t1, n):
    """n sorted random times in [t0, t1)."""
    span = (t1 - t0).total_seconds()
    return sorted(t0 + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(n))


# ========================================================================================
# 1. Lambda execution-role credentials used from a laptop


def lambda_function_traffic(sc, role, fn, t0, t1, ips, bucket_in, bucket_out, every=120):
    """A python Lambda function's own steady calls and the Lambda worker's log-stream calls."""
    t = t0
    cold = True
    while t < t1:
        ip = rng.choice(ips)
        if cold:
            sc.ok(worker_log_stream(role, fn, sec(t, -1), aws_ip()))
            sc.ok(record(role, sec(t, 0.3), "secretsmanager.amazonaws.com", "GetSecretValue",
                         req={"secretId": f"prod/{fn}/smtp"}, read_only=True, ip=ip, ua=UA_LAMBDA_PY))
            cold = False
        key = f"incoming/{t:%Y/%m/%d}/{hexs(12)}.json"
        sc.ok(s3_data(role, sec(t, 0.6), "GetObject", bucket_in, key, read_only=True, ip=ip, ua=UA_LAMBDA_PY,
                      bytes_out=rng.randint(900, 9000)))
        sc.ok(s3_data(role, sec(t, 2.1), "PutObject", bucket_out, f"invoices/{t:%Y/%m}/INV-{rng.randint(100000, 999999)}.pdf",
                      read_only=False, ip=ip, ua=UA_LAMBDA_PY, bytes_in=rng.randint(40_000, 160_000),
                      resp={"x-amz-server-side-encryption": "aws:kms"}))
        if rng.random() < 0.12:
            cold = True
        t = sec(t, every + jitter(-40, 40))


def scenario_lambda():
    sc = Scenario("lambda-credential-exfiltration",
                  "A Lambda function's execution-role credentials (read from its environment) are used "
                  "from a laptop on the internet: identity check, bucket and function discovery, secret "
                  "listing and object downloads with the SAME ASIA key the function is using.")
    fn = "invoice-renderer"
    role = Role("invoice-renderer-role", fn, created=at(12, 41, 7))
    ips = [aws_ip() for _ in range(3)]
    t0, t1 = at(12, 45), at(14, 50)
    lambda_function_traffic(sc, role, fn, t0, t1, ips, "acme-billing-inbox", "acme-invoices-prod")
    ip, mac = "198.51.100.77", UA_CLI_MAC
    t = at(13, 52, 11)
    sc.attacker(arn=role.arn, keys=[role.key], ips=[ip],
                note="the function's session key, used outside AWS with an aws-cli macOS user agent")
    sc.step("initial-access", "the function's session key used from a laptop outside AWS (aws-cli on macOS) "
            "instead of the Lambda runtime: first call is an identity check",
            [record(role, t, "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip,
                    ua=cli(mac, "sts.get-caller-identity"))])
    d = [record(role, sec(t, 19), "s3.amazonaws.com", "ListBuckets", req={"Host": "s3.amazonaws.com"},
                read_only=True, ip=ip, ua=cli(mac, "s3.ls"), additional={"SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": amz_id_2(), "bytesTransferredOut": 0}, request_id=s3_request_id(), version="1.10"),
         s3_data(role, sec(t, 41), "ListObjects", "acme-invoices-prod", read_only=True, ip=ip, ua=cli(mac, "s3.ls"),
                 extra_req={"list-type": "2", "prefix": "", "delimiter": "/", "encoding-type": "url"}),
         s3_data(role, sec(t, 58), "ListObjects", "acme-billing-inbox", read_only=True, ip=ip, ua=cli(mac, "s3.ls"),
                 extra_req={"list-type": "2", "prefix": "", "delimiter": "/", "encoding-type": "url"}),
         record(role, sec(t, 95), "lambda.amazonaws.com", "ListFunctions20150331", req=None, read_only=True, ip=ip,
                ua=cli(mac, "lambda.list-functions")),
         record(role, sec(t, 118), "lambda.amazonaws.com", "GetFunction20150331v2", req={"functionName": fn},
                read_only=True, ip=ip, ua=cli(mac, "lambda.get-function")),
         record(role, sec(t, 131), "lambda.amazonaws.com", "GetFunction20150331v2", req={"functionName": "payments-webhook"},
                read_only=True, ip=ip, ua=cli(mac, "lambda.get-function"),
                error=denied(role, "lambda:GetFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payments-webhook")),
         record(role, sec(t, 160), "secretsmanager.amazonaws.com", "ListSecrets", req=None, read_only=True, ip=ip,
                ua=cli(mac, "secretsmanager.list-secrets")),
         record(role, sec(t, 171), "iam.amazonaws.com", "ListRoles", req=None, read_only=True, ip=ip,
                ua=cli(mac, "iam.list-roles"), error=denied(role, "iam:ListRoles", f"arn:aws:iam::{ACCOUNT}:role/"))]
    sc.step("discovery", "with the stolen key: ListBuckets, bucket listings, Lambda ListFunctions/GetFunction "
            "(GetFunction returns a code download URL), secretsmanager ListSecrets, a denied IAM ListRoles", d)
    g, tt = [], sec(t, 205)
    for i in range(9):
        tt = sec(tt, jitter(2, 9))
        g.append(s3_data(role, tt, "GetObject", "acme-invoices-prod",
                         f"invoices/2026/{rng.choice(['09', '10', '11'])}/INV-{rng.randint(100000, 999999)}.pdf",
                         read_only=True, ip=ip, ua=cli(mac, "s3.cp"), bytes_out=rng.randint(40_000, 160_000)))
    tt = sec(tt, 12)
    g.append(s3_data(role, tt, "GetObject", "acme-billing-inbox", "config/customers-export.csv", read_only=True,
                     ip=ip, ua=cli(mac, "s3.cp"), bytes_out=2_318_772))
    sc.step("exfiltration", "objects of the invoice and billing buckets downloaded to the laptop with the function's key", g)
    return sc


# ========================================================================================
# 2. EC2 instance-profile credentials stolen through SSRF (IMDS) and used elsewhere


def list_buckets(who, t, ip, ua, error=None):
    add = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0,
           "AuthenticationMethod": "AuthHeader", "x-amz-id-2": amz_id_2(), "bytesTransferredOut": 0}
    return record(who, t, "s3.amazonaws.com", "ListBuckets", req={"Host": "s3.amazonaws.com"}, read_only=True,
                  ip=ip, ua=ua, additional=add, request_id=s3_request_id(), version="1.10", error=error)


LIST_V2 = {"list-type": "2", "prefix": "", "encoding-type": "url"}


def instance_traffic(sc, role, eip, t0, t1, bucket, secret):
    """An instance's own calls from its Elastic IP: the SSM agent and the application (boto3)."""
    t = t0
    while t < t1:
        sc.ok(record(role, t, "ssm.amazonaws.com", "UpdateInstanceInformation",
                     req={"instanceId": role.session, "agentVersion": "3.3.987.0", "agentStatus": "Active",
                          "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
                          "iPAddress": f"10.0.{rng.randint(1, 3)}.{rng.randint(10, 250)}", "computerName":
                          "ip-10-0-1-23.ec2.internal", "agentName": "amazon-ssm-agent", "availabilityZone": "us-east-1b",
                          "availabilityZoneId": "use1-az4"}, read_only=False, ip=eip, ua=UA_SSM_AGENT))
        for _ in range(rng.randint(1, 2)):
            sc.ok(s3_data(role, sec(t, jitter(5, 250)), "GetObject", bucket, f"assets/{hexs(8)}/{hexs(6)}.json",
                          read_only=True, ip=eip, ua=UA_EC2, bytes_out=rng.randint(500, 90_000)))
        if rng.random() < 0.3:
            sc.ok(record(role, sec(t, jitter(5, 250)), "secretsmanager.amazonaws.com", "GetSecretValue",
                         req={"secretId": secret}, read_only=True, ip=eip, ua=UA_EC2))
        t = sec(t, 300 + jitter(-3, 3))


def scenario_ec2():
    sc = Scenario("ec2-credential-exfiltration-ssrf",
                  "Instance-profile credentials of a web server, taken through an SSRF to the instance metadata "
                  "service, are used from an internet address to copy a bucket; a second instance's credentials "
                  "are used from an EC2 address in someone else's account.")
    iid = instance_id()
    role = Role("web-frontend-role", iid, created=at(15, 2, 44), ec2=True)
    eip = aws_ip()
    instance_traffic(sc, role, eip, at(15, 25), at(17, 0), "acme-web-assets", "prod/web-frontend/session-key")
    ip, ua = "89.44.197.23", UA_CLI_KALI
    t = at(16, 11, 40)
    sc.attacker(arn=role.arn, keys=[role.key], ips=[ip],
                note="instance-profile session (ec2RoleDelivery 2.0) used outside the instance")
    sc.step("initial-access", "the instance's role session (session name = instance id) used from an internet "
            "address with aws-cli, not from the instance's Elastic IP", [list_buckets(role, t, ip, cli(ua, "s3.ls"))])
    g = [s3_data(role, sec(t, 52), "ListObjects", "acme-customer-uploads", read_only=True, ip=ip, ua=cli(ua, "s3.sync"),
                 extra_req=LIST_V2)]
    tt = sec(t, 53)
    for i in range(42):
        tt = sec(tt, jitter(0.2, 1.6))
        if i == 21:
            g.append(s3_data(role, tt, "ListObjects", "acme-customer-uploads", read_only=True, ip=ip, ua=cli(ua, "s3.sync"),
                             extra_req={**LIST_V2, "continuation-token": base64.b64encode(hexs(40).encode()).decode()}))
        g.append(s3_data(role, tt, "GetObject", "acme-customer-uploads", f"uploads/2026/{rng.randint(1, 11):02d}/{uid()}.jpg",
                         read_only=True, ip=ip, ua=cli(ua, "s3.sync"), bytes_out=rng.randint(80_000, 3_000_000)))
    sc.step("exfiltration", "aws s3 sync of the customer-uploads bucket: ListObjects pages and 42 GetObject from the "
            "outside address with the instance's credentials", g)

    # variant: used from an EC2 address of another account (an AWS address, but not this account's)
    iid2 = instance_id()
    role2 = Role("batch-etl-role", iid2, created=at(15, 30, 3), ec2=True)
    eip2 = aws_ip()
    instance_traffic(sc, role2, eip2, at(16, 2), at(17, 10), "acme-etl-staging", "prod/batch-etl/db")
    ip2 = aws_ip()
    t = at(16, 48, 5)
    sc.attacker(arn=role2.arn, keys=[role2.key], ips=[ip2],
                note="instance-profile session used from an EC2 address that is not one of this account's")
    sc.step("initial-access", "the second instance's role session used from another EC2 host (an AWS us-east-1 "
            "address that is not the instance's Elastic IP) with aws-cli on Amazon Linux",
            [record(role2, t, "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip2,
                    ua=cli(UA_EC2_CLI, "sts.get-caller-identity")),
             list_buckets(role2, sec(t, 14), ip2, cli(UA_EC2_CLI, "s3.ls"))])
    g, tt = [s3_data(role2, sec(t, 40), "ListObjects", "acme-etl-staging", read_only=True, ip=ip2,
                     ua=cli(UA_EC2_CLI, "s3.cp"), extra_req=LIST_V2)], sec(t, 41)
    for i in range(7):
        tt = sec(tt, jitter(0.5, 3))
        g.append(s3_data(role2, tt, "GetObject", "acme-etl-staging", f"exports/customers/part-{i:05d}.parquet",
                         read_only=True, ip=ip2, ua=cli(UA_EC2_CLI, "s3.cp"), bytes_out=rng.randint(5_000_000, 40_000_000)))
    sc.step("exfiltration", "objects of the ETL staging bucket copied to the foreign EC2 host", g)
    return sc


# ========================================================================================
# 3. ECS task-role credentials used from a laptop

DOCKER_UA = ("docker/27.3.1 go/go1.22.7 git-commit/41ca978 kernel/6.10.14-linuxkit os/linux arch/arm64 "
             "UpstreamClient(Docker-Client/27.3.1 \\(darwin\\))")


def ecr_res(repo):
    return [{"accountId": ACCOUNT, "ARN": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repo}"}]


def scenario_ecs():
    sc = Scenario("ecs-task-credential-exfiltration",
                  "An ECS Fargate task's role credentials (from the container credentials endpoint) are used from a "
                  "laptop: bucket listing and downloads, then an ECR login and image pull.")
    task = hexs(32)
    role = Role("orders-worker-task-role", task, created=at(18, 0, 12))
    nat = aws_ip()
    t, t1 = at(18, 1), at(19, 55)
    sc.ok(record(role, sec(t, 2), "ssm.amazonaws.com", "GetParameters",
                 req={"names": ["/orders-worker/prod/queue-url", "/orders-worker/prod/db-host"], "withDecryption": True},
                 read_only=True, ip=nat, ua=UA_ECS))
    sc.ok(record(role, sec(t, 3), "secretsmanager.amazonaws.com", "GetSecretValue",
                 req={"secretId": "prod/orders-worker/db"}, read_only=True, ip=nat, ua=UA_ECS))
    while t < t1:
        t = sec(t, 150 + jitter(-60, 60))
        sc.ok(s3_data(role, t, "PutObject", "acme-orders-exports", f"orders/{t:%Y/%m/%d/%H}/{uid()}.json",
                      read_only=False, ip=nat, ua=UA_ECS, bytes_in=rng.randint(2000, 40_000)))
        if rng.random() < 0.5:
            sc.ok(s3_data(role, sec(t, 1.5), "GetObject", "acme-orders-config", "routing/rules.json", read_only=True,
                          ip=nat, ua=UA_ECS, bytes_out=18_224))
        if rng.random() < 0.15:
            sc.ok(record(role, sec(t, 3), "secretsmanager.amazonaws.com", "GetSecretValue",
                         req={"secretId": "prod/orders-worker/db"}, read_only=True, ip=nat, ua=UA_ECS))
    ip, mac = "192.0.2.88", UA_CLI_MAC2
    t = at(19, 3, 27)
    sc.attacker(arn=role.arn, keys=[role.key], ips=[ip],
                note="task-role session (session name = task id) used from a laptop (aws-cli macOS, docker)")
    sc.step("initial-access", "the task's role session used from a laptop on the internet (aws-cli on macOS), "
            "not from the cluster's NAT address", [list_buckets(role, t, ip, cli(mac, "s3.ls"))])
    g = [s3_data(role, sec(t, 30), "ListObjects", "acme-orders-exports", read_only=True, ip=ip, ua=cli(mac, "s3.ls"),
                 extra_req={**LIST_V2, "delimiter": "/"})]
    tt = sec(t, 60)
    for i in range(6):
        tt = sec(tt, jitter(3, 15))
        g.append(s3_data(role, tt, "GetObject", "acme-orders-exports", f"orders/2026/11/{rng.randint(1, 24):02d}/{uid()}.json",
                         read_only=True, ip=ip, ua=cli(mac, "s3.cp"), bytes_out=rng.randint(2000, 40_000)))
    sc.step("exfiltration", "order exports downloaded with the task's key", g)
    tt = sec(tt, 95)
    e = [record(role, tt, "ecr.amazonaws.com", "DescribeRepositories", req=None, read_only=True, ip=ip,
                ua=cli(mac, "ecr.describe-repositories")),
         record(role, sec(tt, 20), "ecr.amazonaws.com", "GetAuthorizationToken", req=None, resp=None, read_only=True,
                ip=ip, ua=cli(mac, "ecr.get-login-password"))]
    tt = sec(tt, 31)
    digest = "sha256:" + hexs(64)
    e.append(record(role, tt, "ecr.amazonaws.com", "BatchGetImage",
                    req={"imageIds": [{"imageTag": "prod"}], "acceptedMediaTypes": [
                        "application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json"],
                         "repositoryName": "orders-worker", "registryId": ACCOUNT},
                    read_only=True, ip=ip, ua=DOCKER_UA, resources=ecr_res("orders-worker")))
    for i in range(5):
        e.append(record(role, sec(tt, 2 + i * 0.4), "ecr.amazonaws.com", "GetDownloadUrlForLayer",
                        req={"registryId": ACCOUNT, "repositoryName": "orders-worker",
                             "layerDigest": digest if i == 0 else "sha256:" + hexs(64)},
                        read_only=True, ip=ip, ua=DOCKER_UA, resources=ecr_res("orders-worker")))
    sc.step("collection", "ECR login and docker pull of the service's image (GetAuthorizationToken, BatchGetImage, "
            "GetDownloadUrlForLayer) with the task's key: the image may carry code and secrets", e)
    return sc


# ========================================================================================
# 4. a stolen IAM user key escalates itself


def iam_call(who, t, name, req, ip, ua, error=None, resp=None, read_only=True):
    return record(who, t, "iam.amazonaws.com", name, req=req, resp=resp, read_only=read_only, ip=ip, ua=ua, error=error)


def scenario_iam_self():
    sc = Scenario("iam-user-self-escalation",
                  "A reporting service user's long-term key is used from a new address: identity check, denied "
                  "probes, IAM enumeration, an inline admin policy put on itself, a second access key created, "
                  "and the new key used.")
    user = User("svc-reporting")
    home = aws_ip()
    t, t1 = at(10, 0, 20), at(10, 58)
    while t < t1:
        qid = uid()
        sc.ok(record(user, t, "athena.amazonaws.com", "StartQueryExecution",
                     req={"queryString": "***OMITTED***", "queryExecutionContext": {"database": "sales"},
                          "resultConfiguration": {"outputLocation": "s3://acme-reports/athena-results/"},
                          "workGroup": "reporting", "clientRequestToken": uid()},
                     resp={"queryExecutionId": qid}, read_only=False, ip=home, ua=UA_EC2))
        for k in range(2):
            sc.ok(record(user, sec(t, 3 + 2 * k), "athena.amazonaws.com", "GetQueryExecution",
                         req={"queryExecutionId": qid}, read_only=True, ip=home, ua=UA_EC2))
        sc.ok(s3_data(user, sec(t, 9), "GetObject", "acme-reports", f"athena-results/{qid}.csv", read_only=True,
                      ip=home, ua=UA_EC2, bytes_out=rng.randint(3000, 90_000)))
        sc.ok(s3_data(user, sec(t, 11), "PutObject", "acme-reports", f"daily/{t:%Y-%m-%d}/sales-{t:%H%M}.xlsx",
                      read_only=False, ip=home, ua=UA_EC2, bytes_in=rng.randint(30_000, 200_000)))
        t = sec(t, 600 + jitter(-20, 20))
    ip, ua = "203.0.113.61", UA_BOTO_ATTACK
    t = at(10, 21, 3)
    sc.step("initial-access", "the user's long-term key (used every 10 minutes from one AWS address by the "
            "reporting job) used from a new internet address with a different client",
            [record(user, t, "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip, ua=ua)])
    p = [record(user, sec(t, 6), "ec2.amazonaws.com", "DescribeInstances", req={"instancesSet": {}, "filterSet": {}},
                read_only=True, ip=ip, ua=ua,
                error=("Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: "
                       f"{user.arn} is not authorized to perform: ec2:DescribeInstances because no identity-based "
                       "policy allows the ec2:DescribeInstances action")),
         list_buckets(user, sec(t, 8), ip, ua, error=("AccessDenied", "Access Denied")),
         record(user, sec(t, 9), "lambda.amazonaws.com", "ListFunctions20150331", read_only=True, ip=ip, ua=ua,
                error=denied(user, "lambda:ListFunctions", "*")),
         record(user, sec(t, 11), "secretsmanager.amazonaws.com", "ListSecrets", read_only=True, ip=ip, ua=ua,
                error=denied(user, "secretsmanager:ListSecrets", "*"))]
    sc.step("discovery", "permission probing: four different services denied (ec2, s3, lambda, secretsmanager)", p)
    enum = [("GetUser", {"userName": user.name}), ("ListAttachedUserPolicies", {"userName": user.name}),
            ("ListUserPolicies", {"userName": user.name}),
            ("GetUserPolicy", {"userName": user.name, "policyName": "reporting-self-service"}),
            ("ListGroupsForUser", {"userName": user.name}), ("ListAccessKeys", {"userName": user.name}),
            ("ListMFADevices", {"userName": user.name}), ("GetAccountSummary", None), ("ListAccountAliases", None),
            ("ListUsers", None), ("ListGroups", None), ("ListRoles", None),
            ("ListPolicies", {"scope": "Local", "onlyAttached": False}),
            ("GetPolicy", {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/reporting-read"}),
            ("GetPolicyVersion", {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/reporting-read", "versionId": "v3"}),
            ("ListInstanceProfiles", None), ("GetRole", {"roleName": "OrganizationAccountAccessRole"}),
            ("ListAttachedRolePolicies", {"roleName": "OrganizationAccountAccessRole"}),
            ("GetRole", {"roleName": "ci-deploy"}), ("ListRolePolicies", {"roleName": "ci-deploy"}),
            ("ListUsers", {"marker": b32(40)}), ("GetLoginProfile", {"userName": "admin-breakglass"}),
            ("GetAccountAuthorizationDetails", {"filter": ["User", "Role", "Group", "LocalManagedPolicy"]})]
    e, tt = [], sec(t, 40)
    for name, req in enum:
        tt = sec(tt, jitter(0.6, 4))
        err = None
        if name == "GetLoginProfile":
            err = ("NoSuchEntityException", "Login Profile for User admin-breakglass cannot be found.")
        if name == "GetAccountAuthorizationDetails":
            err = denied(user, "iam:GetAccountAuthorizationDetails", "*")
        e.append(iam_call(user, tt, name, req, ip, ua, error=err))
    sc.step("discovery", f"IAM enumeration: {len(enum)} IAM List*/Get* calls on itself, its policies, users, roles", e)
    tt = sec(tt, 74)
    pol = url_policy([{"Sid": "Maint", "Effect": "Allow", "Action": "*", "Resource": "*"}])
    sc.step("privilege-escalation", "PutUserPolicy on ITSELF: inline policy granting Action * on Resource *",
            [iam_call(user, tt, "PutUserPolicy", {"userName": user.name, "policyName": "reporting-maint",
                                                  "policyDocument": pol}, ip, ua, read_only=False)])
    tt = sec(tt, 23)
    new = user.with_key(long_key())
    sc.step("persistence", "CreateAccessKey for itself: a second long-term key",
            [iam_call(user, tt, "CreateAccessKey", {"userName": user.name},
                      ip, ua, read_only=False, resp={"accessKey": {"userName": user.name, "accessKeyId": new.key,
                                                                   "status": "Active", "createDate": human_time(tt)}})])
    ip2 = "185.232.71.12"
    sc.attacker(arn=user.arn, keys=[user.key, new.key], ips=[ip, ip2],
                note="stolen key AKIA…, then the key it created for itself")
    tt = sec(tt, 140)
    d = [record(new, tt, "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip2, ua=ua),
         list_buckets(new, sec(tt, 3), ip2, ua),
         record(new, sec(tt, 5), "ec2.amazonaws.com", "DescribeInstances", req={"instancesSet": {}, "filterSet": {}},
                read_only=True, ip=ip2, ua=ua),
         record(new, sec(tt, 7), "secretsmanager.amazonaws.com", "ListSecrets", read_only=True, ip=ip2, ua=ua),
         iam_call(new, sec(tt, 9), "ListUsers", None, ip2, ua)]
    sc.step("discovery", "the new key used (from another address): calls that were denied before now succeed", d)
    tt = sec(tt, 30)
    c = [s3_data(new, tt, "ListObjects", "acme-finance-ledger", read_only=True, ip=ip2, ua=ua, extra_req=LIST_V2),
         record(new, sec(tt, 8), "secretsmanager.amazonaws.com", "GetSecretValue", req={"secretId": "prod/finance/erp-api"},
                read_only=True, ip=ip2, ua=ua)]
    for i in range(4):
        c.append(s3_data(new, sec(tt, 12 + i * 3), "GetObject", "acme-finance-ledger", f"ledger/2026/Q{i % 4 + 1}.csv",
                         read_only=True, ip=ip2, ua=ua, bytes_out=rng.randint(1_000_000, 9_000_000)))
    sc.step("collection", "with the new key: a secret read and ledger files downloaded", c)
    return sc


def write_s3(base, recs):
    """The scenario as CloudTrail delivers it to S3: ~5-minute gzip JSON objects named by delivery time."""
    d = os.path.join(base, "s3", "AWSLogs", ACCOUNT, "CloudTrail", REGION, "2026", "11", "25")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith(f"{ACCOUNT}_CloudTrail_{REGION}_") and f.endswith(".json.gz"):
            os.remove(os.path.join(d, f))
    groups = {}
    for r in recs:
        t = dt.datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        end = t.replace(minute=t.minute - t.minute % 5, second=0) + dt.timedelta(minutes=5)
        groups.setdefault(end, []).append(r)
    n = 0
    for end, rs in sorted(groups.items()):
        name = f"{ACCOUNT}_CloudTrail_{REGION}_{end:%Y%m%dT%H%MZ}_{alnum(16)}.json.gz"
        body = json.dumps({"Records": rs}, separators=(",", ":")).encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(gzip.compress(body, mtime=0))
        n += 1
    print(f"s3 delivery: {n} objects, {len(recs)} records under {os.path.relpath(d, base)}")


# ========================================================================================
# 5. the known IAM privilege-escalation methods, each by a different low-privilege principal

UA_SAM_SH = ("aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.1.112-124.190.amzn2023.x86_64 md/arch#x86_64 "
             "lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#standard md/installer#exe "
             "md/distrib#amzn.2023 md/prompt#off md/command#{cmd}")
GH_OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def pol_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def gha_login(role, t, ip, repo):
    sub = f"repo:acme-corp/{repo}:ref:refs/heads/main"
    return record({"type": "WebIdentityUser", "principalId": f"{GH_OIDC}:sts.amazonaws.com:{sub}", "userName": sub,
                   "identityProvider": GH_OIDC},
                  t, "sts.amazonaws.com", "AssumeRoleWithWebIdentity",
                  req={"roleArn": role.role_arn, "roleSessionName": role.session, "durationSeconds": 3600},
                  resp={**creds_resp(role, t, role.session), "subjectFromWebIdentityToken": sub,
                        "provider": GH_OIDC, "audience": "sts.amazonaws.com"},
                  additional={"identityProviderConnectionVerificationMethod": "IAMTrustStore"},
                  read_only=True, ip=ip, ua="aws-sdk-js/2.1692.0 promise",
                  resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role.role_arn}])


def scenario_privesc():
    sc = Scenario("privilege-escalation-paths",
                  "Short, separate sequences by different low-privilege principals, one per known IAM "
                  "privilege-escalation method (iam:PassRole shows only as a role ARN in the create call).")
    office = [f"198.51.100.{i}" for i in range(10, 20)]
    outside = ["203.0.113.14", "203.0.113.90", "89.44.198.7", "185.232.70.201", "192.0.2.140", "203.0.113.172",
               "89.187.161.54", "192.0.2.203", "185.107.56.90", "192.0.2.77"]
    cmd = lambda c: cli(UA_CLI_MAC, c)
    base = at(8, 30)
    slot = [0]

    def actor(name, insider):
        """A low-privilege user with a little normal history from its usual address."""
        u = User(name)
        home = rng.choice(office)
        t = base + dt.timedelta(minutes=slot[0] * 17 + rng.randint(0, 4))
        slot[0] += 1
        for j, (src, ev, req) in enumerate(rng.sample([
                ("lambda.amazonaws.com", "ListFunctions20150331", None),
                ("logs.amazonaws.com", "DescribeLogGroups", {"limit": 50}),
                ("cloudwatch.amazonaws.com", "DescribeAlarms", {"maxRecords": 100}),
                ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                ("sts.amazonaws.com", "GetCallerIdentity", None),
                ("ecr.amazonaws.com", "DescribeRepositories", None)], 2)):
            sc.ok(record(u, sec(t, j * 40), src, ev, req=req, read_only=True, ip=home,
                         ua=cmd(src.split(".")[0] + ".describe")))
        ip = home if insider else outside.pop()
        sc.attacker(arn=u.arn, keys=[u.key], ips=[ip])
        return u, ip, sec(t, rng.randint(600, 900))

    def iam(u, t, name, req, ip, resp=None, ro=False, err=None):
        return record(u, t, "iam.amazonaws.com", name, req=req, resp=resp, read_only=ro, ip=ip,
                      ua=cmd("iam." + name), error=err)

    # benign: the CI deployer updating functions, and an SSO admin doing normal IAM work
    ci_ip = aws_ip()
    ci = Role("gha-deploy", "GitHubActions", created=at(9, 2, 11))
    sc.ok(gha_login(ci, at(9, 2, 11), ci_ip, "orders-api"))
    for k, fn in enumerate(["orders-api", "orders-worker", "payments-webhook"]):
        t = at(9, 3, k * 25)
        sc.ok(record(ci, t, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
                     req={"functionName": fn, "s3Bucket": "acme-build-artifacts", "s3Key": f"{fn}/{hexs(40)}.zip",
                          "publish": True, "dryRun": False}, read_only=False, ip=ci_ip,
                     ua=cli(UA_SAM_SH, "lambda.update-function-code")))
        sc.ok(record(ci, sec(t, 9), "lambda.amazonaws.com", "GetFunction20150331v2", req={"functionName": fn},
                     read_only=True, ip=ci_ip, ua=cli(UA_SAM_SH, "lambda.wait")))
    adm = sso_role("AdministratorAccess", "dana.ops@acme.example", hexs(16), created=at(11, 0, 3))
    adm.mfa = False
    aip = office[0]
    for k, (ev, req) in enumerate([("GetRole", {"roleName": "orders-api-role"}),
                                   ("ListAttachedRolePolicies", {"roleName": "orders-api-role"}),
                                   ("AttachRolePolicy", {"roleName": "orders-api-role",
                                                         "policyArn": pol_arn("orders-api-sqs-access")}),
                                   ("ListAttachedRolePolicies", {"roleName": "orders-api-role"})]):
        sc.ok(record(adm, at(11, 2, k * 20), "iam.amazonaws.com", ev, req=req, read_only=ev != "AttachRolePolicy",
                     ip=aip, ua=UA_CONSOLE, console=True, tls_host=None))

    # 1 CreatePolicyVersion --set-as-default on a policy attached to oneself
    u, ip, t = actor("dev-mchen", True)
    pa = pol_arn("dev-mchen-tools")
    sc.step("privilege-escalation", "CreatePolicyVersion with setAsDefault=true on the managed policy attached to "
            "the caller itself, new version allowing * on *",
            [iam(u, t, "ListAttachedUserPolicies", {"userName": u.name}, ip, ro=True),
             iam(u, sec(t, 12), "GetPolicyVersion", {"policyArn": pa, "versionId": "v1"}, ip, ro=True),
             iam(u, sec(t, 40), "CreatePolicyVersion", {"policyArn": pa, "policyDocument": url_policy(ADMIN_STMT),
                                                        "setAsDefault": True}, ip,
                 resp={"policyVersion": {"versionId": "v2", "isDefaultVersion": True, "createDate": human_time(sec(t, 40))}})])
    # 2 SetDefaultPolicyVersion back to a broad old version
    u, ip, t = actor("qa-runner", False)
    pa = pol_arn("qa-runner-policy")
    sc.step("privilege-escalation", "SetDefaultPolicyVersion: an older, broader version of its own policy made default",
            [iam(u, t, "ListPolicyVersions", {"policyArn": pa}, ip, ro=True),
             iam(u, sec(t, 9), "GetPolicyVersion", {"policyArn": pa, "versionId": "v1"}, ip, ro=True),
             iam(u, sec(t, 31), "SetDefaultPolicyVersion", {"policyArn": pa, "versionId": "v1"}, ip)])
    # 3 AttachUserPolicy AdministratorAccess to self
    u, ip, t = actor("intern-jlopez", True)
    sc.step("privilege-escalation", "AttachUserPolicy AdministratorAccess to itself",
            [iam(u, t, "ListAttachedUserPolicies", {"userName": u.name}, ip, ro=True),
             iam(u, sec(t, 25), "AttachUserPolicy", {"userName": u.name, "policyArn": ADMIN_POLICY}, ip)])
    # 4 AttachGroupPolicy on its own group
    u, ip, t = actor("support-tier1", False)
    sc.step("privilege-escalation", "AttachGroupPolicy AdministratorAccess to the caller's own group 'support'",
            [iam(u, t, "ListGroupsForUser", {"userName": u.name}, ip, ro=True),
             iam(u, sec(t, 18), "AttachGroupPolicy", {"groupName": "support", "policyArn": ADMIN_POLICY}, ip)])
    # 5 PutGroupPolicy on its own group
    u, ip, t = actor("billing-analyst", True)
    sc.step("privilege-escalation", "PutGroupPolicy on the caller's own group 'finance': inline * on *",
            [iam(u, t, "ListGroupsForUser", {"userName": u.name}, ip, ro=True),
             iam(u, sec(t, 14), "PutGroupPolicy", {"groupName": "finance", "policyName": "finance-tools",
                                                   "policyDocument": url_policy(ADMIN_STMT)}, ip)])
    # 6 AddUserToGroup: itself into the admin group
    u, ip, t = actor("build-bot", False)
    sc.step("privilege-escalation", "AddUserToGroup: the caller adds itself to the 'Admins' group",
            [iam(u, t, "ListGroups", None, ip, ro=True),
             iam(u, sec(t, 6), "GetGroup", {"groupName": "Admins"}, ip, ro=True),
             iam(u, sec(t, 20), "AddUserToGroup", {"groupName": "Admins", "userName": u.name}, ip)])
    # 7 CreateLoginProfile for another user, then a console login as that user
    u, ip, t = actor("helpdesk-ops", False)
    victim = User("admin-breakglass")
    sc.step("privilege-escalation", "CreateLoginProfile for another (admin) user, then a console sign-in as that user "
            "from the same address",
            [iam(u, t, "GetLoginProfile", {"userName": victim.name}, ip, ro=True,
                 err=("NoSuchEntityException", f"Login Profile for User {victim.name} cannot be found.")),
             iam(u, sec(t, 30), "CreateLoginProfile", {"userName": victim.name, "passwordResetRequired": False}, ip,
                 resp={"loginProfile": {"userName": victim.name, "createDate": human_time(sec(t, 30)),
                                        "passwordResetRequired": False}}),
             record({"type": "IAMUser", "principalId": victim.uid, "arn": victim.arn, "accountId": ACCOUNT,
                     "userName": victim.name}, sec(t, 95), "signin.amazonaws.com", "ConsoleLogin", req=None,
                    resp={"ConsoleLogin": "Success"}, additional={
                        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgsFromTB_us-east-1_" + hexs(16),
                        "MobileVersion": "No", "MFAUsed": "No"}, read_only=False, ip=ip, ua=UA_BROWSER_WIN,
                    event_type="AwsConsoleSignIn", request_id=False, tls_host=None)])
    sc.attacker(arn=victim.arn, ips=[ip], note="console sign-in with the login profile created by helpdesk-ops")
    # 8 UpdateLoginProfile for another user
    u, ip, t = actor("svc-onboarding", False)
    sc.step("privilege-escalation", "UpdateLoginProfile: resets the console password of another user (ops-admin)",
            [iam(u, t, "ListUsers", None, ip, ro=True),
             iam(u, sec(t, 33), "UpdateLoginProfile", {"userName": "ops-admin", "passwordResetRequired": False}, ip)])
    # 9 CreateAccessKey for another user, then the key used
    u, ip, t = actor("dev-rpatel", True)
    tfadm = User("terraform-admin")
    nk = tfadm.key
    sc.step("privilege-escalation", "CreateAccessKey for another user (terraform-admin), and the new key used",
            [iam(u, t, "ListAccessKeys", {"userName": tfadm.name}, ip, ro=True),
             iam(u, sec(t, 21), "CreateAccessKey", {"userName": tfadm.name}, ip,
                 resp={"accessKey": {"userName": tfadm.name, "accessKeyId": nk, "status": "Active",
                                     "createDate": human_time(sec(t, 21))}}),
             record(tfadm, sec(t, 80), "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip,
                    ua=cmd("sts.get-caller-identity"))])
    sc.attacker(arn=tfadm.arn, keys=[nk], ips=[ip], note="key created for it by dev-rpatel")
    # 10 UpdateAssumeRolePolicy, then AssumeRole
    u, ip, t = actor("audit-reader", False)
    adm_role = Role("prod-admin", "audit", created=sec(t, 100))
    trust = url_policy([{"Effect": "Allow", "Principal": {"AWS": u.arn}, "Action": "sts:AssumeRole"}])
    sc.step("privilege-escalation", "UpdateAssumeRolePolicy on the prod-admin role to trust the caller, then AssumeRole",
            [iam(u, t, "GetRole", {"roleName": "prod-admin"}, ip, ro=True),
             iam(u, sec(t, 45), "UpdateAssumeRolePolicy", {"roleName": "prod-admin", "policyDocument": trust}, ip),
             record(u, sec(t, 100), "sts.amazonaws.com", "AssumeRole",
                    req={"roleArn": adm_role.role_arn, "roleSessionName": "audit"},
                    resp=creds_resp(adm_role, sec(t, 100), "audit"), read_only=True, ip=ip, ua=cmd("sts.assume-role"),
                    resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": adm_role.role_arn}],
                    shared_event_id=uid())])
    # 11 CreateFunction with an admin role passed, Invoke, the function acts with that role
    u, ip, t = actor("ml-dev", True)
    lam = Role("lambda-admin-role", "tmp-debug", created=sec(t, 70))
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tmp-debug"
    sc.step("privilege-escalation", "CreateFunction passing the admin role lambda-admin-role, Invoke, and the "
            "function (running as that role) attaches AdministratorAccess to the caller",
            [iam(u, t, "ListRoles", None, ip, ro=True),
             record(u, sec(t, 30), "lambda.amazonaws.com", "CreateFunction20150331",
                    req={"functionName": "tmp-debug", "runtime": "python3.12", "role": role_arn("lambda-admin-role"),
                         "handler": "index.handler", "code": {}, "timeout": 60, "publish": False},
                    resp={"functionName": "tmp-debug", "functionArn": fn_arn, "runtime": "python3.12",
                          "role": role_arn("lambda-admin-role"), "handler": "index.handler", "state": "Pending"},
                    read_only=False, ip=ip, ua=cmd("lambda.create-function")),
             record(u, sec(t, 62), "lambda.amazonaws.com", "Invoke",
                    req={"functionName": fn_arn, "invocationType": "RequestResponse"}, read_only=False, ip=ip,
                    ua=cmd("lambda.invoke"), category="Data",
                    resources=[{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": fn_arn}]),
             record(lam, sec(t, 63), "iam.amazonaws.com", "AttachUserPolicy",
                    req={"userName": u.name, "policyArn": ADMIN_POLICY}, read_only=False, ip=aws_ip(), ua=UA_LAMBDA_PY)])
    sc.attacker(arn=lam.arn, keys=[lam.key], note="admin role session of the function ml-dev created")
    # 12 UpdateFunctionCode / UpdateFunctionConfiguration by someone who is not the deployer
    u, ip, t = actor("contractor-kwong", False)
    sc.step("privilege-escalation", "UpdateFunctionCode and UpdateFunctionConfiguration (a layer from an outside "
            "account) on orders-api by a user who is not the CI deployer: code now runs with the function's role",
            [record(u, t, "lambda.amazonaws.com", "GetFunction20150331v2", req={"functionName": "orders-api"},
                    read_only=True, ip=ip, ua=cmd("lambda.get-function")),
             record(u, sec(t, 50), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
                    req={"functionName": "orders-api", "publish": False, "dryRun": False}, read_only=False, ip=ip,
                    ua=cmd("lambda.update-function-code")),
             record(u, sec(t, 75), "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2",
                    req={"functionName": "orders-api",
                         "layers": [f"arn:aws:lambda:{REGION}:{EXTERNAL}:layer:py-utils:3"]}, read_only=False, ip=ip,
                    ua=cmd("lambda.update-function-configuration"))])
    # 13 CreateStack with an admin role; CloudFormation acts with it
    u, ip, t = actor("dev-sokafor", True)
    cfn = Role("cfn-admin-role", "AWSCloudFormation", created=sec(t, 8), invoked_by="cloudformation.amazonaws.com")
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/support-tools/{uid()}"
    sc.step("privilege-escalation", "CreateStack passing cfn-admin-role; the stack (CloudFormation with that role) "
            "creates an IAM user with AdministratorAccess",
            [record(u, t, "cloudformation.amazonaws.com", "CreateStack",
                    req={"stackName": "support-tools", "templateURL": "https://s3.amazonaws.com/acme-sandbox-dev/t.yaml",
                         "capabilities": ["CAPABILITY_NAMED_IAM"], "roleARN": role_arn("cfn-admin-role")},
                    resp={"stackId": stack}, read_only=False, ip=ip, ua=cmd("cloudformation.create-stack")),
             record(cfn, sec(t, 9), "iam.amazonaws.com", "CreateUser", req={"userName": "support-sync"},
                    resp={"user": {"userName": "support-sync", "userId": user_id(), "path": "/",
                                   "arn": f"arn:aws:iam::{ACCOUNT}:user/support-sync", "createDate": human_time(sec(t, 9))}},
                    read_only=False, ip="cloudformation.amazonaws.com", ua="cloudformation.amazonaws.com"),
             record(cfn, sec(t, 11), "iam.amazonaws.com", "AttachUserPolicy",
                    req={"userName": "support-sync", "policyArn": ADMIN_POLICY}, read_only=False,
                    ip="cloudformation.amazonaws.com", ua="cloudformation.amazonaws.com")])
    # 14 RunInstances with an admin instance profile
    u, ip, t = actor("dev-tnguyen", False)
    new_iid = instance_id()
    sc.step("privilege-escalation", "RunInstances with the instance profile ec2-admin-profile (its role is admin)",
            [iam(u, t, "ListInstanceProfiles", None, ip, ro=True),
             record(u, sec(t, 40), "ec2.amazonaws.com", "RunInstances",
                    req={"instancesSet": {"items": [{"imageId": "ami-0" + hexs(16), "minCount": 1, "maxCount": 1,
                                                     "keyName": "tmp-key"}]},
                         "userData": "<sensitiveDataRemoved>", "instanceType": "t3.micro", "blockDeviceMapping": {},
                         "monitoring": {"enabled": False}, "disableApiTermination": False, "disableApiStop": False,
                         "clientToken": uid(), "iamInstanceProfile": {"name": "ec2-admin-profile"}},
                    resp={"requestId": uid(), "reservationId": "r-0" + hexs(16), "ownerId": ACCOUNT, "groupSet": {},
                          "instancesSet": {"items": [{"instanceId": new_iid, "instanceType": "t3.micro",
                                                      "iamInstanceProfile": {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/ec2-admin-profile",
                                                                             "id": "AIPA" + b32(17)}}]}},
                    read_only=False, ip=ip, ua=cmd("ec2.run-instances"))])
    # 15 Glue CreateDevEndpoint with a passed role
    u, ip, t = actor("analyst-glue", True)
    sc.step("privilege-escalation", "Glue CreateDevEndpoint passing glue-admin-role with the caller's SSH key",
            [record(u, t, "glue.amazonaws.com", "GetDevEndpoints", read_only=True, ip=ip, ua=cmd("glue.get-dev-endpoints")),
             record(u, sec(t, 35), "glue.amazonaws.com", "CreateDevEndpoint",
                    req={"endpointName": "adhoc-debug", "roleArn": role_arn("glue-admin-role"),
                         "publicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + b32(43), "numberOfNodes": 2},
                    resp={"endpointName": "adhoc-debug", "status": "PROVISIONING", "roleArn": role_arn("glue-admin-role")},
                    read_only=False, ip=ip, ua=cmd("glue.create-dev-endpoint"))])
    # 16 SageMaker CreateNotebookInstance with a passed role
    u, ip, t = actor("ml-intern", False)
    sc.step("privilege-escalation", "SageMaker CreateNotebookInstance passing sagemaker-admin-role, then a "
            "presigned URL to open it",
            [record(u, t, "sagemaker.amazonaws.com", "CreateNotebookInstance",
                    req={"notebookInstanceName": "scratch-nb", "instanceType": "ml.t3.medium",
                         "roleArn": role_arn("sagemaker-admin-role"), "directInternetAccess": "Enabled",
                         "rootAccess": "Enabled"},
                    resp={"notebookInstanceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/scratch-nb"},
                    read_only=False, ip=ip, ua=cmd("sagemaker.create-notebook-instance")),
             record(u, sec(t, 400), "sagemaker.amazonaws.com", "CreatePresignedNotebookInstanceUrl",
                    req={"notebookInstanceName": "scratch-nb"}, read_only=False, ip=ip,
                    ua=cmd("sagemaker.create-presigned-notebook-instance-url"))])
    # 17 CodeBuild CreateProject + StartBuild with a passed role
    u, ip, t = actor("dev-build", True)
    sc.step("privilege-escalation", "CodeBuild CreateProject passing codebuild-admin-role with an inline buildspec, "
            "then StartBuild",
            [record(u, t, "codebuild.amazonaws.com", "CreateProject",
                    req={"name": "lint-tmp", "source": {"type": "NO_SOURCE",
                                                        "buildspec": "version: 0.2\nphases:\n  build:\n    commands:\n      - aws iam attach-user-policy --user-name dev-build --policy-arn arn:aws:iam::aws:policy/AdministratorAccess\n"},
                         "artifacts": {"type": "NO_ARTIFACTS"},
                         "environment": {"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                                         "computeType": "BUILD_GENERAL1_SMALL"},
                         "serviceRole": role_arn("codebuild-admin-role")},
                    resp={"project": {"name": "lint-tmp", "arn": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/lint-tmp",
                                      "serviceRole": role_arn("codebuild-admin-role")}},
                    read_only=False, ip=ip, ua=cmd("codebuild.create-project")),
             record(u, sec(t, 20), "codebuild.amazonaws.com", "StartBuild", req={"projectName": "lint-tmp"},
                    resp={"build": {"id": f"lint-tmp:{uid()}", "buildStatus": "IN_PROGRESS"}}, read_only=False,
                    ip=ip, ua=cmd("codebuild.start-build"))])
    return sc


# ========================================================================================
# 6. broad read-only reconnaissance by one compromised role


def scenario_discovery():
    sc = Scenario("discovery-by-one-principal",
                  "A build agent's instance role, after code execution on the agent, does broad read-only "
                  "reconnaissance across IAM, S3, EC2, Lambda, RDS, Secrets Manager, KMS and STS within ten minutes "
                  "(a few calls denied), from the agent's own address, then reads two secrets.")
    iid = instance_id()
    role = Role("jenkins-agent-role", iid, created=at(20, 1, 5), ec2=True)
    eip = aws_ip()
    t, t1 = at(20, 3), at(21, 50)
    while t < t1:
        sc.ok(record(role, t, "ssm.amazonaws.com", "UpdateInstanceInformation",
                     req={"instanceId": iid, "agentVersion": "3.3.987.0", "agentStatus": "Active",
                          "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023",
                          "agentName": "amazon-ssm-agent", "availabilityZone": "us-east-1a",
                          "availabilityZoneId": "use1-az6"}, read_only=False, ip=eip, ua=UA_SSM_AGENT))
        if rng.random() < 0.6:
            tb = sec(t, jitter(10, 200))
            sc.ok(record(role, tb, "ecr.amazonaws.com", "GetAuthorizationToken", read_only=True, ip=eip,
                         ua=cli(UA_EC2_CLI, "ecr.get-login-password")))
            sc.ok(s3_data(role, sec(tb, 95), "PutObject", "acme-build-artifacts", f"orders-api/{hexs(40)}.zip",
                          read_only=False, ip=eip, ua=UA_EC2, bytes_in=rng.randint(2_000_000, 9_000_000)))
        t = sec(t, 300 + jitter(-3, 3))
    ua = lambda c: cli(UA_EC2_CLI, c)
    B = ["acme-build-artifacts", "acme-invoices-prod", "acme-customer-uploads", "acme-finance-ledger", "acme-tfstate"]
    recon = [("sts", "GetCallerIdentity", None, None),
             ("iam", "GetAccountAuthorizationDetails", None, "deny"),
             ("iam", "ListUsers", None, None), ("iam", "ListRoles", None, None),
             ("iam", "ListPolicies", {"scope": "Local", "onlyAttached": True}, None), ("iam", "ListGroups", None, None),
             ("iam", "GetAccountPasswordPolicy", None, None), ("iam", "GetAccountSummary", None, None),
             ("iam", "ListInstanceProfiles", None, None),
             ("iam", "ListAttachedRolePolicies", {"roleName": role.name}, None),
             ("iam", "ListRolePolicies", {"roleName": role.name}, None),
             ("iam", "GetRolePolicy", {"roleName": role.name, "policyName": "jenkins-agent-inline"}, None),
             ("iam", "ListAccessKeys", {"userName": "svc-reporting"}, "deny"),
             ("s3", "ListBuckets", None, None)]
    for b in B[:4]:
        recon += [("s3", "GetBucketPolicy", b, None), ("s3", "GetBucketAcl", b, None)]
    recon += [("s3", "GetBucketPublicAccessBlock", B[1], None), ("s3", "GetBucketLocation", B[4], None),
              ("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeSecurityGroups", {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeSubnets", {"subnetSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeSnapshots", {"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]},
                                            "sharedUsersSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeImages", {"executableBySet": {}, "imagesSet": {}, "ownersSet": {"items": [{"owner": "self"}]},
                                         "filterSet": {}}, None),
              ("ec2", "DescribeVolumes", {"volumeSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeKeyPairs", {"keySet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeRegions", {"regionSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeAddresses", {"publicIpsSet": {}, "allocationIdsSet": {}, "filterSet": {}}, None),
              ("ec2", "DescribeInstanceAttribute", {"instanceId": instance_id(), "attribute": "userData"}, "ec2deny"),
              ("lambda", "ListFunctions20150331", None, None),
              ("lambda", "GetFunction20150331v2", {"functionName": "orders-api"}, None),
              ("lambda", "GetFunction20150331v2", {"functionName": "payments-webhook"}, None),
              ("lambda", "ListLayers20181031", None, None),
              ("rds", "DescribeDBInstances", None, None), ("rds", "DescribeDBClusters", {"includeShared": False}, None),
              ("rds", "DescribeDBSnapshots", {"includeShared": False, "includePublic": False}, None),
              ("secretsmanager", "ListSecrets", None, None),
              ("secretsmanager", "DescribeSecret", {"secretId": "prod/orders-api/db"}, None),
              ("secretsmanager", "DescribeSecret", {"secretId": "prod/payments/stripe"}, None),
              ("kms", "ListKeys", None, None), ("kms", "ListAliases", None, None),
              ("kms", "DescribeKey", {"keyId": "alias/acme-prod-data"}, None),
              ("kms", "ListGrants", {"keyId": str(uuid.UUID(int=rng.getrandbits(128), version=4))}, "deny"),
              ("ssm", "DescribeParameters", None, None),
              ("dynamodb", "ListTables", None, None), ("sns", "ListTopics", None, None),
              ("sqs", "ListQueues", None, None), ("cloudtrail", "DescribeTrails", {"includeShadowTrails": True}, None),
              ("cloudtrail", "GetTrailStatus", {"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/org-trail"}, None),
              ("guardduty", "ListDetectors", None, "deny"),
              ("organizations", "DescribeOrganization", None, "deny"),
              ("sts", "GetCallerIdentity", None, None)]
    d, tt = [], at(21, 4, 30)
    cmds = {"iam": "iam.list", "ec2": "ec2.describe", "lambda": "lambda.list", "rds": "rds.describe",
            "secretsmanager": "secretsmanager.list", "kms": "kms.list", "s3": "s3api.get"}
    for svc, ev, req, err in recon:
        tt = sec(tt, jitter(2, 10))
        u = ua(cmds.get(svc, svc) + "-" + ev.lower()[:12])
        if svc == "s3":
            if ev == "ListBuckets":
                d.append(list_buckets(role, tt, eip, u))
            else:
                e = None
                if ev == "GetBucketPolicy" and req == B[2]:
                    e = ("NoSuchBucketPolicy", "The bucket policy does not exist")
                d.append(s3_mgmt(role, tt, ev, req, {ev[9:].lower() if ev != "GetBucketPublicAccessBlock"
                                                     else "publicAccessBlock": ""}, ip=eip, ua=u, error=e))
            continue
        src = f"{svc}.amazonaws.com"
        e = None
        if err == "deny":
            action = {"GetAccountAuthorizationDetails": "iam:GetAccountAuthorizationDetails",
                      "ListAccessKeys": "iam:ListAccessKeys", "ListGrants": "kms:ListGrants",
                      "ListDetectors": "guardduty:ListDetectors",
                      "DescribeOrganization": "organizations:DescribeOrganization"}[ev]
            e = denied(role, action, "*")
        elif err == "ec2deny":
            e = ("Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: "
                 f"{role.arn} is not authorized to perform: ec2:DescribeInstanceAttribute on resource: "
                 f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{req['instanceId']} because no identity-based policy "
                 "allows the ec2:DescribeInstanceAttribute action")
        d.append(record(role, tt, src, ev, req=req, read_only=True, ip=eip, ua=u, error=e))
    sc.attacker(arn=role.arn, keys=[role.key], ips=[eip],
                note="the agent's own session and address: only the breadth and the client change")
    assert (dt.datetime.strptime(d[-1]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
            - dt.datetime.strptime(d[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")).total_seconds() < 600
    sc.step("discovery", f"{len(d)} read-only calls across {len({r['eventSource'] for r in d})} services within ten "
            "minutes from one role session (aws-cli, where the agent normally only pushes artifacts), "
            f"{sum(1 for r in d if r.get('errorCode') in ('AccessDenied', 'Client.UnauthorizedOperation'))} denied", d)
    tt = sec(tt, 40)
    sc.step("credential-access", "GetSecretValue on two production secrets the agent never reads",
            [record(role, tt, "secretsmanager.amazonaws.com", "GetSecretValue", req={"secretId": "prod/orders-api/db"},
                    read_only=True, ip=eip, ua=ua("secretsmanager.get-secret-value")),
             record(role, sec(tt, 11), "secretsmanager.amazonaws.com", "GetSecretValue",
                    req={"secretId": "prod/payments/stripe"}, read_only=True, ip=eip, ua=ua("secretsmanager.get-secret-value"),
                    error=denied(role, "secretsmanager:GetSecretValue",
                                 f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/payments/stripe-{alnum(6)}",
                                 "resource-based"))])
    return sc


# ========================================================================================
# 7. outsiders on the account's bucket: anonymous, another account, and an AssumeRole from outside

UA_CURL = "curl/8.5.0"
UA_PYREQ = "python-requests/2.32.3"


def scenario_s3_outsider():
    sc = Scenario("s3-outsider-access",
                  "The partner-exchange bucket (public by mistake) is listed, read and written anonymously from internet "
                  "addresses, read by a principal of an account outside the organization, and a role in the account "
                  "is assumed from that outside account and used.")
    bucket = "acme-partner-exchange"
    fn = Role("partner-sync-role", "partner-sync", created=at(5, 58, 2))
    ips = [aws_ip() for _ in range(2)]
    org = ORG_ACCOUNTS[0]
    org_pid = role_id() + ":etl-" + hexs(8)
    org_ip = aws_ip()
    t = at(6, 0)
    while t < at(8, 0):
        ip = rng.choice(ips)
        sc.ok(s3_data(fn, t, "PutObject", bucket, f"outbound/{t:%Y%m%d}/{uid()}.csv", read_only=False, ip=ip,
                      ua=UA_LAMBDA_PY, bytes_in=rng.randint(5000, 80_000)))
        sc.ok(s3_data(fn, sec(t, 2), "ListObjects", bucket, read_only=True, ip=ip, ua=UA_LAMBDA_PY,
                      extra_req={**LIST_V2, "prefix": "inbound/"}))
        if rng.random() < 0.5:
            sc.ok(s3_data(other_account(org, org_pid), sec(t, jitter(30, 200)), "GetObject", bucket,
                          f"outbound/{t:%Y%m%d}/{uid()}.csv", read_only=True, ip=org_ip, ua=UA_ECS,
                          bytes_out=rng.randint(5000, 80_000)))
        t = sec(t, 300 + jitter(-30, 30))
    a1, a2, a3 = "203.0.113.200", "89.248.163.12", "185.220.70.33"
    sc.attacker(arn=None, ips=[a1, a2, a3], note="anonymous requests (accountId ANONYMOUS_PRINCIPAL)")
    tt = at(6, 41, 9)
    sc.step("discovery", "anonymous listing of the bucket from an internet address",
            [s3_data(ANONYMOUS, tt, "ListObjects", bucket, read_only=True, ip=a1, ua=UA_CURL, anonymous=True,
                     extra_req=LIST_V2),
             s3_data(ANONYMOUS, sec(tt, 30), "ListObjects", bucket, read_only=True, ip=a1, ua=UA_CURL, anonymous=True,
                     extra_req={**LIST_V2, "prefix": "outbound/"})])
    g, tt = [], at(6, 44, 0)
    for i in range(10):
        tt = sec(tt, jitter(0.5, 4))
        g.append(s3_data(ANONYMOUS, tt, "GetObject", bucket, f"outbound/2026112{rng.randint(0, 4)}/{uid()}.csv",
                         read_only=True, ip=rng.choice([a1, a2]), ua=UA_PYREQ, anonymous=True,
                         bytes_out=rng.randint(5000, 80_000)))
    sc.step("exfiltration", "anonymous GetObject of partner files from two internet addresses", g)
    tt = at(7, 2, 51)
    sc.step("initial-access", "anonymous PutObject (public write): a file planted in the inbound prefix the "
            "partner-sync function processes",
            [s3_data(ANONYMOUS, tt, "PutObject", bucket, "inbound/20261125/orders-update.csv", read_only=False, ip=a3,
                     ua=UA_CURL, anonymous=True, bytes_in=4211),
             s3_data(ANONYMOUS, sec(tt, 4), "GetObject", bucket, "inbound/20261125/orders-update.csv", read_only=True,
                     ip=a3, ua=UA_CURL, anonymous=True, bytes_out=4211)])
    ext_pid = user_id()
    eip_ = "192.0.2.45"
    ext = other_account(EXTERNAL, ext_pid)
    ua = lambda c: cli(UA_CLI_KALI, c)
    sc.attacker(arn=None, keys=[], ips=[eip_], note=f"principal {ext_pid} of account {EXTERNAL} (outside the organization)")
    tt = at(7, 10, 2)
    g = [s3_data(ext, tt, "ListObjects", bucket, read_only=True, ip=eip_, ua=ua("s3.ls"), extra_req=LIST_V2)]
    for i in range(4):
        g.append(s3_data(ext, sec(tt, 8 + i * 2), "GetObject", bucket, f"outbound/20261124/{uid()}.csv",
                         read_only=True, ip=eip_, ua=ua("s3.cp"), bytes_out=rng.randint(5000, 80_000)))
    sc.step("exfiltration", f"a principal of outside account {EXTERNAL} lists and reads the bucket", g)
    vr = Role("partner-audit-readonly", "audit-" + hexs(6), created=at(7, 20, 14))
    sc.attacker(arn=vr.arn, keys=[vr.key], ips=[eip_], note=f"role session assumed from account {EXTERNAL}")
    tt = at(7, 20, 14)
    sc.step("initial-access", f"AssumeRole into partner-audit-readonly from account {EXTERNAL} (outside the organization)",
            [record(ext, tt, "sts.amazonaws.com", "AssumeRole",
                    req={"roleArn": vr.role_arn, "roleSessionName": vr.session, "durationSeconds": 3600},
                    resp={"credentials": {"accessKeyId": vr.key, "sessionToken": session_token(),
                                          "expiration": human_time(sec(tt, 3600))},
                          "assumedRoleUser": {"assumedRoleId": f"{vr.rid}:{vr.session}", "arn": vr.arn}},
                    read_only=True, ip=eip_, ua=ua("sts.assume-role"),
                    resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": vr.role_arn}],
                    shared_event_id=uid())])
    g = [record(vr, sec(tt, 20), "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=eip_,
                ua=ua("sts.get-caller-identity")),
         list_buckets(vr, sec(tt, 31), eip_, ua("s3.ls")),
         s3_data(vr, sec(tt, 50), "ListObjects", "acme-finance-ledger", read_only=True, ip=eip_, ua=ua("s3.ls"),
                 extra_req=LIST_V2, error=("AccessDenied", "Access Denied")),
         s3_data(vr, sec(tt, 62), "ListObjects", "acme-invoices-prod", read_only=True, ip=eip_, ua=ua("s3.ls"),
                 extra_req=LIST_V2)]
    for i in range(3):
        g.append(s3_data(vr, sec(tt, 75 + i * 4), "GetObject", "acme-invoices-prod",
                         f"invoices/2026/11/INV-{rng.randint(100000, 999999)}.pdf", read_only=True, ip=eip_,
                         ua=ua("s3.cp"), bytes_out=rng.randint(40_000, 160_000)))
    sc.step("collection", "the assumed session lists buckets and reads invoices", g)
    return sc


# ========================================================================================
# 8. root console sessions


def root_login(t, ip, ua, mfa):
    add = {"LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_"
           + hexs(16), "MobileVersion": "No", "MFAUsed": "Yes" if mfa else "No"}
    if mfa:
        add["MFAIdentifier"] = f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device"
    return record(Root(), t, "signin.amazonaws.com", "ConsoleLogin", req=None, resp={"ConsoleLogin": "Success"},
                  additional=add, read_only=False, ip=ip, ua=ua, event_type="AwsConsoleSignIn", request_id=False,
                  tls_host=None)


def console_call(who, t, src, ev, req, ip, ua, ro=True, resp=None, error=None, region=REGION):
    internal = rng.random() < 0.2
    return record(who, t, src, ev, req=req, resp=resp, read_only=ro, ip="AWS Internal" if internal else ip,
                  ua=UA_CONSOLE if internal else ua, console=True, error=error, region=region, tls_host=None)


def scenario_root():
    sc = Scenario("root-console-session",
                  "Two root console sessions: a short MFA-protected one from the office (billing checks), and one "
                  "without MFA from an unknown address that enumerates the account, creates a backdoor user and a root "
                  "access key, and stops CloudTrail logging and GuardDuty.")
    # benign around: a Lambda function and an SSO admin
    fn = Role("nightly-report-role", "nightly-report", created=at(1, 59, 30))
    fips = [aws_ip(), aws_ip()]
    t = at(2, 0)
    while t < at(4, 10):
        ip = rng.choice(fips)
        sc.ok(s3_data(fn, t, "PutObject", "acme-reports", f"nightly/{t:%H%M}.json", read_only=False, ip=ip,
                      ua=UA_LAMBDA_PY, bytes_in=rng.randint(3000, 30_000)))
        if rng.random() < 0.3:
            sc.ok(worker_log_stream(fn, "nightly-report", sec(t, -2), aws_ip()))
        t = sec(t, 360 + jitter(-60, 60))
    office = "198.51.100.12"
    # session A: root with MFA, short
    ta = at(2, 12, 40)
    ra = Root(created=ta, mfa=True)
    a = [root_login(ta, office, UA_BROWSER, True)]
    tt = ta
    for src, ev, req in [("account.amazonaws.com", "GetContactInformation", None),
                         ("account.amazonaws.com", "GetAlternateContact", {"AlternateContactType": "BILLING"}),
                         ("ce.amazonaws.com", "GetCostAndUsage", {"granularity": "MONTHLY", "metrics": ["UnblendedCost"]}),
                         ("ce.amazonaws.com", "GetCostForecast", {"granularity": "MONTHLY", "metric": "UNBLENDED_COST"}),
                         ("iam.amazonaws.com", "GetAccountSummary", None),
                         ("iam.amazonaws.com", "ListMFADevices", None),
                         ("iam.amazonaws.com", "ListAccessKeys", None),
                         ("billing.amazonaws.com", "GetBillingPreferences", None),
                         ("budgets.amazonaws.com", "DescribeBudgets", {"accountId": ACCOUNT}),
                         ("ce.amazonaws.com", "GetCostAndUsage", {"granularity": "DAILY", "metrics": ["UnblendedCost"]}),
                         ("account.amazonaws.com", "PutAlternateContact", {"AlternateContactType": "SECURITY"}),
                         ("iam.amazonaws.com", "GetAccountPasswordPolicy", None)]:
        tt = sec(tt, jitter(8, 60))
        a.append(console_call(ra, tt, src, ev, req, office, UA_BROWSER, ro=not ev.startswith("Put")))
    sc.attacker(arn=Root.arn, ips=[office], note="root user (session A with MFA from the office address)")
    sc.step("initial-access", "root console sign-in WITH MFA from the office address and its short billing/account "
            "session: root use is always reported", a)
    # session B: root without MFA from an unknown address
    ip, ua = "185.107.57.141", UA_BROWSER_FF
    tb = at(3, 21, 5)
    rb = Root(created=tb, mfa=False)
    sc.attacker(arn=Root.arn, keys=[rb.key], ips=[ip], note="root user, session B without MFA")
    sc.step("initial-access", "root console sign-in WITHOUT MFA from an address never seen", [root_login(tb, ip, ua, False)])
    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1",
               "ap-northeast-1"]
    disc = [("iam.amazonaws.com", "GetAccountSummary", None), ("iam.amazonaws.com", "ListUsers", None),
            ("iam.amazonaws.com", "ListRoles", None), ("iam.amazonaws.com", "ListPolicies", {"scope": "Local"}),
            ("iam.amazonaws.com", "ListGroups", None), ("iam.amazonaws.com", "ListAccessKeys", None),
            ("iam.amazonaws.com", "GetAccountPasswordPolicy", None), ("iam.amazonaws.com", "ListMFADevices", None),
            ("organizations.amazonaws.com", "DescribeOrganization", None),
            ("account.amazonaws.com", "GetContactInformation", None),
            ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}),
            ("cloudtrail.amazonaws.com", "DescribeTrails", {"includeShadowTrails": True}),
            ("cloudtrail.amazonaws.com", "GetTrailStatus", {"name": "org-trail"}),
            ("guardduty.amazonaws.com", "ListDetectors", None),
            ("lambda.amazonaws.com", "ListFunctions20150331", None),
            ("rds.amazonaws.com", "DescribeDBInstances", None),
            ("secretsmanager.amazonaws.com", "ListSecrets", None),
            ("ce.amazonaws.com", "GetCostAndUsage", {"granularity": "MONTHLY", "metrics": ["UnblendedCost"]}),
            ("servicequotas.amazonaws.com", "ListServiceQuotas", {"serviceCode": "ec2"})]
    for rg in regions:
        disc += [("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}, "_region": rg}),
                 ("ec2.amazonaws.com", "DescribeVpcs", {"vpcSet": {}, "filterSet": {}, "_region": rg}),
                 ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "filterSet": {}, "_region": rg}),
                 ("ec2.amazonaws.com", "DescribeAccountAttributes", {"accountAttributeNameSet": {"items": [
                     {"attributeName": "max-instances"}]}, "filterSet": {}, "_region": rg})]
    d, tt = [], sec(tb, 20)
    for src, ev, req in disc:
        tt = sec(tt, jitter(3, 25))
        rg = REGION
        if req and "_region" in req:
            req = dict(req)
            rg = req.pop("_region")
        d.append(console_call(rb, tt, src, ev, req, ip, ua, region=rg))
    sc.step("discovery", f"the no-MFA root session browses the account: IAM, organization, trails, GuardDuty and "
            f"EC2 in {len(regions)} regions ({len(d)} calls)", d)
    tt = sec(tt, 60)
    bu = "aws-support-sync"
    newk = long_key()
    rootk = long_key()
    p = [console_call(rb, tt, "iam.amazonaws.com", "CreateUser", {"userName": bu}, ip, ua, ro=False,
                      resp={"user": {"path": "/", "userName": bu, "userId": user_id(),
                                     "arn": f"arn:aws:iam::{ACCOUNT}:user/{bu}", "createDate": human_time(tt)}}),
         console_call(rb, sec(tt, 25), "iam.amazonaws.com", "AttachUserPolicy", {"userName": bu, "policyArn": ADMIN_POLICY},
                      ip, ua, ro=False),
         console_call(rb, sec(tt, 48), "iam.amazonaws.com", "CreateLoginProfile",
                      {"userName": bu, "passwordResetRequired": False}, ip, ua, ro=False),
         console_call(rb, sec(tt, 70), "iam.amazonaws.com", "CreateAccessKey", {"userName": bu}, ip, ua, ro=False,
                      resp={"accessKey": {"userName": bu, "accessKeyId": newk, "status": "Active",
                                          "createDate": human_time(sec(tt, 70))}}),
         console_call(rb, sec(tt, 130), "iam.amazonaws.com", "CreateAccessKey", None, ip, ua, ro=False,
                      resp={"accessKey": {"accessKeyId": rootk, "status": "Active", "createDate": human_time(sec(tt, 130))}})]
    sc.attacker(arn=f"arn:aws:iam::{ACCOUNT}:user/{bu}", keys=[newk], note="backdoor user created by root session B")
    sc.attacker(arn=Root.arn, keys=[rootk], note="root access key created by root session B")
    sc.step("persistence", "backdoor admin user (CreateUser, AttachUserPolicy AdministratorAccess, CreateLoginProfile, "
            "CreateAccessKey) and a root access key (CreateAccessKey without userName)", p)
    tt = sec(tt, 200)
    det = hexs(32)
    e = [console_call(rb, tt, "guardduty.amazonaws.com", "GetDetector", {"detectorId": det}, ip, ua),
         console_call(rb, sec(tt, 20), "guardduty.amazonaws.com", "UpdateDetector", {"detectorId": det, "enable": False},
                      ip, ua, ro=False),
         console_call(rb, sec(tt, 61), "cloudtrail.amazonaws.com", "StopLogging",
                      {"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/org-trail"}, ip, ua, ro=False,
                      error=("AccessDeniedException", "This trail is an organization trail. You can only stop logging "
                             "an organization trail from the management account.")),
         console_call(rb, sec(tt, 88), "cloudtrail.amazonaws.com", "StopLogging",
                      {"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/account-audit"}, ip, ua, ro=False),
         console_call(rb, sec(tt, 120), "config.amazonaws.com", "StopConfigurationRecorder",
                      {"configurationRecorderName": "default"}, ip, ua, ro=False)]
    sc.step("defense-evasion", "GuardDuty detector disabled, CloudTrail StopLogging (org trail refused, account trail "
            "stopped), AWS Config recorder stopped", e)
    tt = sec(tt, 150)
    c = []
    for i in range(5):
        c.append(console_call(rb, sec(tt, i * 15), "secretsmanager.amazonaws.com", "GetSecretValue",
                              {"secretId": rng.choice(["prod/orders-api/db", "prod/payments/stripe", "prod/web-frontend/session-key",
                                                       "prod/batch-etl/db", "prod/finance/erp-api"])}, ip, ua))
    sc.step("credential-access", "root session reads production secrets in the console", c)
    return sc


# ========================================================================================
# background: a busy, benign account over one day


def via(who, host):
    """The same principal, with a service calling on its behalf."""
    ident = who.identity()
    ident["invokedBy"] = host
    return ident


def kms_arn(kid):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{kid}"


def kms_res(kid):
    return [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": kms_arn(kid)}]


def diurnal(t):
    h = t.hour + t.minute / 60
    return 0.35 if h < 7 or h >= 21 else (1.4 if 9 <= h < 18 else 0.8)


def background():
    R = []
    add = R.append
    END = at(24) - dt.timedelta(seconds=1)
    KEY_DATA, KEY_TRAIL, KEY_SECRETS = uid(), uid(), uid()
    secret_arn = lambda name: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-{alnum(6)}"

    def get_secret(who, t, ip, ua, name):
        add(record(who, t, "secretsmanager.amazonaws.com", "GetSecretValue", req={"secretId": name},
                   read_only=True, ip=ip, ua=ua))
        add(record(via(who, "secretsmanager.amazonaws.com"), sec(t, 0.1), "kms.amazonaws.com", "Decrypt",
                   req={"encryptionContext": {"SecretARN": secret_arn(name), "SecretVersionId": uid()},
                        "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, read_only=True,
                   ip="secretsmanager.amazonaws.com", ua="secretsmanager.amazonaws.com", resources=kms_res(KEY_SECRETS)))

    def get_param(who, t, ip, ua, name):
        add(record(who, t, "ssm.amazonaws.com", "GetParameter", req={"name": name, "withDecryption": True},
                   read_only=True, ip=ip, ua=ua))
        add(record(via(who, "ssm.amazonaws.com"), sec(t, 0.1), "kms.amazonaws.com", "Decrypt",
                   req={"encryptionContext": {"PARAMETER_ARN": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"},
                        "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}, read_only=True,
                   ip="ssm.amazonaws.com", ua="ssm.amazonaws.com", resources=kms_res(KEY_DATA)))

    # --- AWS services on their own behalf ------------------------------------------------
    dl = Service("delivery.logs.amazonaws.com")
    t = at(0, 2, 13)
    while t < END:
        add(s3_mgmt(dl, t, "GetBucketAcl", "acme-vpc-flow-logs", {"acl": ""}, ip="x", ua="x",
                    error=("AccessDenied", "Access Denied")))
        if rng.random() < 0.5:
            add(s3_data(dl, sec(t, 1), "PutObject", "acme-vpc-flow-logs",
                        f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{t:%Y/%m/%d}/{ACCOUNT}_vpcflowlogs_{REGION}_fl-0{hexs(16)}_{t:%Y%m%dT%H%M}Z_{hexs(8)}.log.gz",
                        read_only=False, ip="x", ua="x", error=("AccessDenied", "Access Denied"), bytes_in=rng.randint(2000, 90_000)))
        add(record(dl, sec(t, 2), "kms.amazonaws.com", "GenerateDataKey",
                   req={"keyId": kms_arn(KEY_DATA), "encryptionContext": {"aws:logs:arn":
                        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/vendedlogs/states/order-flow"}, "keySpec": "AES_256"},
                   read_only=True, ip="x", ua="x", resources=kms_res(KEY_DATA),
                   error=("AccessDenied", f"User: delivery.logs.amazonaws.com is not authorized to perform: kms:GenerateDataKey "
                          f"on resource: {kms_arn(KEY_DATA)} because no resource-based policy allows the kms:GenerateDataKey action")))
        t = sec(t, 600 + jitter(-40, 40))
    ct = Service("cloudtrail.amazonaws.com")
    t = at(0, 4, 40)
    while t < END:
        add(record(ct, t, "kms.amazonaws.com", "GenerateDataKey",
                   req={"keySpec": "AES_256", "encryptionContext": {
                       "aws:cloudtrail:arn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/account-audit",
                       "aws:s3:arn": f"arn:aws:s3:::acme-cloudtrail-{ACCOUNT}/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{t:%Y/%m/%d}/{ACCOUNT}_CloudTrail_{REGION}_{t:%Y%m%dT%H%M}Z_{alnum(16)}.json.gz"},
                        "keyId": kms_arn(KEY_TRAIL)}, read_only=True, ip="x", ua="x", resources=kms_res(KEY_TRAIL)))
        t = sec(t, 300 + jitter(-20, 20))

    # --- service-linked roles doing Describe* breadth --------------------------------------
    cfg = slr("config.amazonaws.com", "AWSServiceRoleForConfig", "AWSConfig-Describe")
    cfg_calls = [("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}), ("ec2", "DescribeSecurityGroups", None),
                 ("ec2", "DescribeVpcs", None), ("ec2", "DescribeSubnets", None), ("ec2", "DescribeNetworkInterfaces", None),
                 ("ec2", "DescribeVolumes", None), ("ec2", "DescribeRouteTables", None), ("ec2", "DescribeInternetGateways", None),
                 ("iam", "GetRole", {"roleName": "orders-api-role"}), ("iam", "ListAttachedRolePolicies", {"roleName": "orders-api-role"}),
                 ("iam", "GetPolicy", {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/orders-api-sqs-access"}),
                 ("s3", "GetBucketAcl", {"bucketName": "acme-orders-exports", "acl": ""}),
                 ("s3", "GetBucketPolicy", {"bucketName": "acme-partner-exchange", "policy": ""}),
                 ("s3", "GetBucketEncryption", {"bucketName": "acme-invoices-prod", "encryption": ""}),
                 ("lambda", "GetFunction20150331v2", {"functionName": "orders-api"}),
                 ("kms", "DescribeKey", {"keyId": kms_arn(KEY_DATA)}), ("rds", "DescribeDBInstances", None)]
    aa = slr("access-analyzer.amazonaws.com", "AWSServiceRoleForAccessAnalyzer", "access-analyzer")
    aa_calls = [("iam", "ListRoles", None), ("iam", "GetRole", {"roleName": "partner-audit-readonly"}),
                ("iam", "GetRole", {"roleName": "gha-terraform-apply"}), ("iam", "GetRole", {"roleName": "prod-admin"}),
                ("s3", "GetBucketPolicy", {"bucketName": "acme-shared-artifacts", "policy": ""}),
                ("s3", "GetBucketPolicyStatus", {"bucketName": "acme-partner-exchange", "policyStatus": ""}),
                ("s3", "GetBucketAcl", {"bucketName": "acme-web-assets", "acl": ""}),
                ("kms", "ListKeys", None), ("kms", "GetKeyPolicy", {"keyId": KEY_DATA, "policyName": "default"}),
                ("kms", "GetKeyPolicy", {"keyId": KEY_TRAIL, "policyName": "default"}),
                ("lambda", "GetPolicy20150331v2", {"functionName": "payments-webhook"}),
                ("secretsmanager", "GetResourcePolicy", {"secretId": "prod/payments/stripe"})]
    ta = slr("trustedadvisor.amazonaws.com", "AWSServiceRoleForTrustedAdvisor", "TrustedAdvisor")
    ta_calls = [("ec2", "DescribeInstances", None), ("ec2", "DescribeVolumes", None), ("ec2", "DescribeAddresses", None),
                ("ec2", "DescribeSecurityGroups", None), ("iam", "GetAccountSummary", None),
                ("iam", "GenerateCredentialReport", None), ("iam", "GetCredentialReport", None),
                ("iam", "GetAccountPasswordPolicy", None), ("rds", "DescribeDBInstances", None),
                ("cloudtrail", "DescribeTrails", None), ("s3", "GetBucketAcl", {"bucketName": "acme-customer-uploads", "acl": ""})]
    elb = slr("elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing", "ElasticLoadBalancing")
    asg = slr("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling", "AutoScaling")

    def burst(role, t, calls, n=None):
        for i, (svc, ev, req) in enumerate(calls if n is None else rng.sample(calls, n)):
            host = role.invoked_by
            err = None
            if ev == "GetKeyPolicy" and req["keyId"] == KEY_TRAIL:
                err = denied(role, "kms:GetKeyPolicy", kms_arn(KEY_TRAIL), "resource-based")
            if ev == "GetBucketPolicy" and req["bucketName"] == "acme-partner-exchange":
                err = ("NoSuchBucketPolicy", "The bucket policy does not exist")
            add(record(role, sec(t, i * jitter(0.2, 1.5)), f"{svc}.amazonaws.com", ev, req=req, read_only=True,
                       ip=host, ua=host, error=err))

    t = at(0, 11)
    while t < END:
        burst(cfg, t, cfg_calls, rng.randint(9, 14))
        t = sec(t, 1800 + jitter(-90, 90))
    for h in range(1, 24, 3):
        burst(aa, at(h, rng.randint(0, 50)), aa_calls)
    for h in range(2, 24, 4):
        burst(ta, at(h, rng.randint(0, 50)), ta_calls)
    t = at(0, 1)
    elb_calls = [("ec2", "DescribeNetworkInterfaces", {"filterSet": {"items": [{"name": "description", "valueSet": {
        "items": [{"value": "ELB app/orders-alb/" + hexs(16)}]}}]}}), ("ec2", "DescribeInstances", None),
                 ("ec2", "DescribeSecurityGroups", None), ("ec2", "DescribeSubnets", None)]
    asg_calls = [("ec2", "DescribeInstanceStatus", {"instancesSet": {}, "filterSet": {}, "includeAllInstances": True}),
                 ("ec2", "DescribeInstances", None), ("ec2", "DescribeLaunchTemplateVersions", {"launchTemplateId": "lt-0" + hexs(16)})]
    while t < END:
        burst(elb, t, elb_calls, 2)
        burst(asg, sec(t, 200), asg_calls, 2)
        t = sec(t, 420 + jitter(-20, 20))
    for th, name in [(at(9, 2), "RunInstances"), (at(20, 31), "TerminateInstances")]:
        add(record(asg, th, "ec2.amazonaws.com", name,
                   req={"instancesSet": {"items": [{"instanceId": instance_id()}]}} if name == "TerminateInstances" else
                   {"instancesSet": {"items": [{"minCount": 1, "maxCount": 1}]}, "launchTemplate": {
                       "launchTemplateId": "lt-0" + hexs(16), "version": "7"}, "clientToken": uid()},
                   read_only=False, ip=asg.invoked_by, ua=asg.invoked_by))

    # --- Lambda functions: own calls (exec-env UAs) and the Lambda worker's log calls -------
    def lambda_fn(fn, ua, every, work, deny_logs=False, p_cold=0.04):
        role = Role(f"{fn}-role", fn, created=at(0) - dt.timedelta(minutes=rng.randint(5, 50)))
        ips = [aws_ip() for _ in range(5)]
        t, cold = at(0, 0, rng.uniform(0, every)), True
        while t < END:
            if (t - role.created).total_seconds() > 6 * 3600:
                role, cold = role.renew(sec(t, -3)), True
            ip = rng.choice(ips)
            if cold:
                err = None
                if deny_logs:
                    err = denied(role, "logs:CreateLogStream",
                                 f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{fn}:log-stream:"
                                 + t.strftime("%Y/%m/%d/") + "[$LATEST]" + hexs(32))
                add(worker_log_stream(role, fn, sec(t, -1.5), aws_ip(), error=err))
            work(role, t, ip, ua, cold)
            cold = rng.random() < p_cold
            t = sec(t, rng.expovariate(1) * every / diurnal(t) + 0.5)

    def orders_api(role, t, ip, ua, cold):
        if cold:
            get_param(role, sec(t, 0.2), ip, ua, "/orders-api/prod/stripe-webhook-url")
            add(s3_mgmt(role, sec(t, 0.4), "HeadBucket", "acme-orders-archive-2019", ip=ip, ua=ua,
                        error=("AccessDenied", "Access Denied")))
        add(s3_data(role, sec(t, 0.8), "PutObject", "acme-orders-exports", f"receipts/{t:%Y/%m/%d}/{uid()}.json",
                    read_only=False, ip=ip, ua=ua, bytes_in=rng.randint(900, 6000)))

    def thumbs(role, t, ip, ua, cold):
        k = f"uploads/2026/11/{uid()}.jpg"
        add(s3_data(role, sec(t, 0.2), "GetObject", "acme-customer-uploads", k, read_only=True, ip=ip,
                    ua=ua.replace("{svc}", "s3"), bytes_out=rng.randint(80_000, 3_000_000)))
        add(s3_data(role, sec(t, 1.9), "PutObject", "acme-thumbnails", k.replace("uploads/", "thumbs/"), read_only=False,
                    ip=ip, ua=ua.replace("{svc}", "s3"), bytes_in=rng.randint(8000, 60_000)))

    def payments(role, t, ip, ua, cold):
        if cold or rng.random() < 0.15:
            get_secret(role, sec(t, 0.1), ip, ua, "prod/payments/stripe")
        add(s3_data(role, sec(t, 0.7), "PutObject", "acme-payments-audit", f"events/{t:%Y/%m/%d/%H}/{uid()}.json",
                    read_only=False, ip=ip, ua=ua, bytes_in=rng.randint(1500, 9000)))

    def auditfwd(role, t, ip, ua, cold):
        add(record(role, sec(t, 0.3), "logs.amazonaws.com", "FilterLogEvents",
                   req={"logGroupName": "/aws/lambda/payments-webhook", "startTime": int(t.timestamp() * 1000) - 300_000,
                        "filterPattern": "ERROR"}, read_only=True, ip=ip, ua=ua))

    lambda_fn("orders-api", UA_LAMBDA_NODE.replace("{svc}", "s3"), 260, orders_api)
    lambda_fn("thumbnail-resizer", UA_LAMBDA_NODE, 600, thumbs)
    lambda_fn("payments-webhook", UA_LAMBDA_PY, 560, payments)
    lambda_fn("audit-forwarder", UA_LAMBDA_PY, 300, auditfwd, deny_logs=True, p_cold=0.3)

    # --- EC2 instance roles from their Elastic IPs --------------------------------------------
    for rname, bucket in [("web-frontend-role", "acme-web-assets"), ("web-frontend-role", "acme-web-assets"),
                          ("batch-etl-role", "acme-etl-staging")]:
        iid = instance_id()
        role = Role(rname, iid, created=at(0) - dt.timedelta(minutes=rng.randint(5, 300)), ec2=True)
        eip = aws_ip()
        t = at(0, rng.randint(0, 14))
        while t < END:
            if (t - role.created).total_seconds() > 6 * 3600:
                role = role.renew(sec(t, -30))
            add(record(role, t, "ssm.amazonaws.com", "UpdateInstanceInformation",
                       req={"instanceId": iid, "agentVersion": "3.3.987.0", "agentStatus": "Active",
                            "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023"},
                       read_only=False, ip=eip, ua=UA_SSM_AGENT))
            for k in range(3):
                add(record(role, sec(t, 300 * k + jitter(1, 30)), "ssm.amazonaws.com", "ListInstanceAssociations",
                           req={"instanceId": iid, "maxResults": 50}, read_only=True, ip=eip, ua=UA_SSM_AGENT))
            if rname.startswith("web"):
                for _ in range(rng.randint(0, 2)):
                    add(s3_data(role, sec(t, jitter(1, 890)), "GetObject", bucket, f"assets/{hexs(8)}/{hexs(6)}.json",
                                read_only=True, ip=eip, ua=UA_EC2, bytes_out=rng.randint(500, 90_000)))
                if t.minute < 15:
                    get_secret(role, sec(t, jitter(1, 60)), eip, UA_EC2, "prod/web-frontend/session-key")
            elif 1 <= t.hour < 3:
                for _ in range(rng.randint(6, 10)):
                    tt = sec(t, jitter(1, 890))
                    add(s3_data(role, tt, "GetObject", "acme-orders-exports", f"orders/2026/11/24/{rng.randint(0, 23):02d}/{uid()}.json",
                                read_only=True, ip=eip, ua=UA_EC2, bytes_out=rng.randint(2000, 40_000)))
                add(s3_data(role, sec(t, 895), "PutObject", bucket, f"exports/customers/part-{rng.randint(0, 99):05d}.parquet",
                            read_only=False, ip=eip, ua=UA_EC2, bytes_in=rng.randint(5_000_000, 40_000_000)))
            t = sec(t, 900 + jitter(-2, 2))

    # --- ECS tasks (task role sessions named by task id) ----------------------------------------
    nat = aws_ip()
    for svc, rname, ua_ in [("orders-worker", "orders-worker-task-role", UA_ECS_GO.replace("{svc}", "s3")),
                            ("reports-api", "reports-api-task-role", UA_ECS_GO.replace("{svc}", "s3"))]:
        r0 = Role(rname, "x", created=at(0))
        deploys = [at(0), at(9, 31), at(15, 2), END]
        for di in range(3):
            for _ in range(2):
                task = hexs(32)
                role = r0.renew(sec(deploys[di], rng.randint(10, 60)), session=task)
                t = sec(role.created, 5)
                get_secret(role, t, nat, ua_, f"prod/{svc}/db")
                while t < deploys[di + 1]:
                    if (t - role.created).total_seconds() > 6 * 3600:
                        role = role.renew(t, session=task)
                    if svc == "orders-worker":
                        add(s3_data(role, t, "PutObject", "acme-orders-exports", f"orders/{t:%Y/%m/%d/%H}/{uid()}.json",
                                    read_only=False, ip=nat, ua=ua_, bytes_in=rng.randint(2000, 40_000)))
                        t = sec(t, rng.expovariate(1) * 1000 / diurnal(t) + 1)
                    else:
                        add(s3_data(role, t, "GetObject", "acme-reports", f"daily/{t:%Y-%m-%d}/sales-{rng.randint(0, 23):02d}00.xlsx",
                                    read_only=True, ip=nat, ua=ua_, bytes_out=rng.randint(30_000, 200_000)))
                        if t.minute < 8:
                            add(s3_mgmt(role, sec(t, 1), "HeadBucket", "acme-legacy-archive", ip=nat, ua=ua_,
                                        error=("AccessDenied", "Access Denied")))
                        t = sec(t, rng.expovariate(1) * 1100 / diurnal(t) + 1)

    # --- CI: GitHub OIDC role running terraform plan / apply ----------------------------------
    plan_calls = [("sts", "GetCallerIdentity", None), ("iam", "GetRole", {"roleName": "orders-api-role"}),
                  ("iam", "ListRolePolicies", {"roleName": "orders-api-role"}),
                  ("iam", "ListAttachedRolePolicies", {"roleName": "orders-api-role"}),
                  ("iam", "GetRolePolicy", {"roleName": "orders-api-role", "policyName": "inline"}),
                  ("iam", "GetPolicy", {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/orders-api-sqs-access"}),
                  ("iam", "GetPolicyVersion", {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/orders-api-sqs-access", "versionId": "v4"}),
                  ("iam", "GetOpenIDConnectProvider", {"openIDConnectProviderArn": GH_OIDC}),
                  ("organizations", "DescribeOrganization", None)]
    for fn in ["orders-api", "thumbnail-resizer", "payments-webhook", "audit-forwarder"]:
        plan_calls += [("lambda", "GetFunction20150331v2", {"functionName": fn}),
                       ("lambda", "ListVersionsByFunction20150331", {"functionName": fn}),
                       ("lambda", "GetFunctionCodeSigningConfig", {"functionName": fn}),
                       ("lambda", "GetPolicy20150331v2", {"functionName": fn}),
                       ("logs", "DescribeLogGroups", {"logGroupNamePrefix": f"/aws/lambda/{fn}"}),
                       ("logs", "ListTagsForResource", {"resourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{fn}"}),
                       ("iam", "GetRole", {"roleName": f"{fn}-role"})]
    for b in ["acme-orders-exports", "acme-web-assets", "acme-customer-uploads", "acme-invoices-prod", "acme-reports"]:
        plan_calls += [("s3", "GetBucketPolicy", {"bucketName": b, "policy": ""}),
                       ("s3", "GetBucketAcl", {"bucketName": b, "acl": ""}),
                       ("s3", "GetBucketVersioning", {"bucketName": b, "versioning": ""}),
                       ("s3", "GetBucketEncryption", {"bucketName": b, "encryption": ""}),
                       ("s3", "GetBucketPublicAccessBlock", {"bucketName": b, "publicAccessBlock": ""}),
                       ("s3", "GetBucketTagging", {"bucketName": b, "tagging": ""})]
    for ev in ["DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups", "DescribeSecurityGroupRules",
               "DescribeRouteTables", "DescribeInternetGateways", "DescribeNatGateways", "DescribeVpcEndpoints",
               "DescribeNetworkAcls", "DescribeLaunchTemplates", "DescribeLaunchTemplateVersions", "DescribeAddresses",
               "DescribeVpcAttribute", "DescribeInstances"]:
        plan_calls.append(("ec2", ev, None))
    plan_calls += [("rds", "DescribeDBInstances", {"dBInstanceIdentifier": "orders-db"}),
                   ("rds", "DescribeDBSubnetGroups", None), ("rds", "ListTagsForResource", None),
                   ("kms", "DescribeKey", {"keyId": kms_arn(KEY_DATA)}), ("kms", "GetKeyPolicy", {"keyId": KEY_DATA, "policyName": "default"}),
                   ("kms", "GetKeyRotationStatus", {"keyId": KEY_DATA}), ("kms", "ListResourceTags", {"keyId": KEY_DATA}),
                   ("secretsmanager", "DescribeSecret", {"secretId": "prod/orders-api/db"}),
                   ("secretsmanager", "GetResourcePolicy", {"secretId": "prod/orders-api/db"}),
                   ("sqs", "GetQueueAttributes", {"queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders", "attributeNames": ["All"]}),
                   ("sqs", "ListQueueTags", {"queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders"}),
                   ("sns", "GetTopicAttributes", {"topicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"}),
                   ("dynamodb", "DescribeTable", {"tableName": "orders"}), ("dynamodb", "DescribeContinuousBackups", {"tableName": "orders"}),
                   ("dynamodb", "DescribeTimeToLive", {"tableName": "orders"}),
                   ("cloudwatch", "DescribeAlarms", {"alarmNames": ["orders-api-errors"]}),
                   ("elasticloadbalancing", "DescribeLoadBalancers", None), ("elasticloadbalancing", "DescribeTargetGroups", None),
                   ("elasticloadbalancing", "DescribeListeners", None), ("ecs", "DescribeServices", {"cluster": "prod", "services": ["orders-worker", "reports-api"]}),
                   ("ecs", "DescribeTaskDefinition", {"taskDefinition": "orders-worker"}),
                   ("ecr", "DescribeRepositories", {"repositoryNames": ["orders-worker", "reports-api"]}),
                   ("ecr", "GetLifecyclePolicy", {"repositoryName": "orders-worker"}),
                   ("acm", "DescribeCertificate", {"certificateArn": f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/{uid()}"}),
                   ("route53", "GetHostedZone", {"id": "Z0" + alnum_up(19)}), ("route53", "ListResourceRecordSets", {"hostedZoneId": "Z0" + alnum_up(19)})]
    plan_role = Role("gha-terraform-plan", "GitHubActions")
    apply_role = Role("gha-terraform-apply", "GitHubActions")

    def tf_run(role, t0, writes=()):
        ip = aws_ip()
        role = role.renew(t0)
        add(gha_login(role, t0, ip, "infrastructure"))
        tt = sec(t0, 25)
        add(s3_data(role, tt, "GetObject", "acme-tfstate", "prod/terraform.tfstate", read_only=True, ip=ip,
                    ua=UA_TF.replace("{svc}", "s3"), bytes_out=1_284_331))
        for svc, ev, req in plan_calls:
            tt = sec(tt, jitter(0.05, 0.9))
            err = denied(role, "organizations:DescribeOrganization", "*") if svc == "organizations" else None
            if svc == "s3":
                add(s3_mgmt(role, tt, ev, req["bucketName"], {k: v for k, v in req.items() if k != "bucketName"},
                            ip=ip, ua=UA_TF.replace("{svc}", "s3"),
                            error=("NoSuchTagSet", "The TagSet does not exist") if ev == "GetBucketTagging" and rng.random() < 0.4 else None))
            else:
                add(record(role, tt, f"{svc}.amazonaws.com", ev, req=req, read_only=True, ip=ip,
                           ua=UA_TF.replace("{svc}", svc.replace("elasticloadbalancing", "elasticloadbalancingv2")), error=err))
        for svc, ev, req in writes:
            tt = sec(tt, jitter(1, 6))
            add(record(role, tt, f"{svc}.amazonaws.com", ev, req=req, read_only=False, ip=ip, ua=UA_TF.replace("{svc}", svc)))
        if writes:
            add(s3_data(role, sec(tt, 3), "PutObject", "acme-tfstate", "prod/terraform.tfstate", read_only=False, ip=ip,
                        ua=UA_TF.replace("{svc}", "s3"), bytes_in=1_291_007))

    for h, m in [(9, 12), (11, 47), (14, 3)]:
        tf_run(plan_role, at(h, m, 9))
    sg = "sg-0" + hexs(16)
    tf_run(apply_role, at(16, 41, 30), writes=[
        ("ec2", "AuthorizeSecurityGroupIngress", {"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443,
                                                                                             "toPort": 443, "ipRanges": {"items": [{"cidrIp": "10.0.0.0/16"}]}}]}}),
        ("ec2", "CreateTags", {"resourcesSet": {"items": [{"resourceId": sg}]}, "tagSet": {"items": [{"key": "team", "value": "orders"}]}}),
        ("iam", "PutRolePolicy", {"roleName": "orders-api-role", "policyName": "inline",
                                  "policyDocument": url_policy([{"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
                                                                 "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"}])}),
        ("iam", "AttachRolePolicy", {"roleName": "thumbnail-resizer-role",
                                     "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}),
        ("lambda", "UpdateFunctionConfiguration20150331v2", {"functionName": "thumbnail-resizer", "memorySize": 1024, "timeout": 60}),
        ("logs", "PutRetentionPolicy", {"logGroupName": "/aws/lambda/thumbnail-resizer", "retentionInDays": 30}),
        ("cloudwatch", "PutMetricAlarm", {"alarmName": "thumbnail-resizer-errors", "metricName": "Errors", "namespace": "AWS/Lambda",
                                          "threshold": 5.0, "comparisonOperator": "GreaterThanThreshold", "evaluationPeriods": 1,
                                          "period": 300, "statistic": "Sum"}),
        ("sqs", "SetQueueAttributes", {"queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/orders",
                                       "attributes": {"VisibilityTimeout": "120"}})])

    # --- CloudFormation / SAM deploys -------------------------------------------------------------
    sam = Role("gha-sam-deploy", "GitHubActions")
    for (h, m), fn in [((11, 15), "orders-api"), ((17, 5), "payments-webhook")]:
        t0 = at(h, m, 2)
        r = sam.renew(t0)
        ip = aws_ip()
        add(gha_login(r, t0, ip, fn))
        stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{fn}/{uid()}"
        cs = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/samcli-deploy{rng.randint(1700000000, 1799999999)}/{uid()}"
        ua = cli(UA_SAM_SH, "cloudformation.deploy")
        add(s3_data(r, sec(t0, 10), "PutObject", "acme-sam-artifacts", f"{fn}/{hexs(32)}", read_only=False, ip=ip, ua=ua,
                    bytes_in=rng.randint(2_000_000, 9_000_000)))
        add(record(r, sec(t0, 14), "cloudformation.amazonaws.com", "CreateChangeSet",
                   req={"stackName": fn, "templateURL": f"https://s3.amazonaws.com/acme-sam-artifacts/{fn}/{hexs(32)}.template",
                        "capabilities": ["CAPABILITY_IAM"], "changeSetName": cs.split("/")[1], "changeSetType": "UPDATE"},
                   resp={"id": cs, "stackId": stack}, read_only=False, ip=ip, ua=ua))
        for k in range(3):
            add(record(r, sec(t0, 17 + 5 * k), "cloudformation.amazonaws.com", "DescribeChangeSet",
                       req={"changeSetName": cs, "stackName": fn}, read_only=True, ip=ip, ua=ua))
        add(record(r, sec(t0, 35), "cloudformation.amazonaws.com", "ExecuteChangeSet",
                   req={"changeSetName": cs, "stackName": fn}, read_only=False, ip=ip, ua=ua))
        cf = "cloudformation.amazonaws.com"
        for k, (svc, ev, req, ro) in enumerate([
                ("lambda", "GetFunction20150331v2", {"functionName": fn}, True),
                ("lambda", "UpdateFunctionCode20150331v2", {"functionName": fn, "s3Bucket": "acme-sam-artifacts",
                                                            "s3Key": f"{fn}/{hexs(32)}", "publish": False}, False),
                ("lambda", "UpdateFunctionConfiguration20150331v2", {"functionName": fn, "timeout": 30}, False),
                ("lambda", "PublishVersion20150331", {"functionName": fn}, False),
                ("lambda", "UpdateAlias20150331", {"functionName": fn, "name": "live"}, False),
                ("iam", "GetRole", {"roleName": f"{fn}-role"}, True),
                ("lambda", "ListTags20170331", {"resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"}, True)]):
            add(record(via(r, cf), sec(t0, 40 + 4 * k), f"{svc}.amazonaws.com", ev, req=req, read_only=ro, ip=cf, ua=cf))
        for k in range(5):
            add(record(r, sec(t0, 45 + 9 * k), "cloudformation.amazonaws.com", "DescribeStackEvents",
                       req={"stackName": fn}, read_only=True, ip=ip, ua=ua))

    # --- Identity Center console users ---------------------------------------------------------
    office = [f"198.51.100.{i}" for i in range(10, 20)]
    home = "192.0.2.33"
    saml = f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_{hexs(16)}_DO_NOT_DELETE"
    browse = [("lambda", "ListFunctions20150331", None), ("lambda", "GetFunction20150331v2", {"functionName": "orders-api"}),
              ("logs", "FilterLogEvents", {"logGroupName": "/aws/lambda/orders-api", "interleaved": True}),
              ("logs", "DescribeLogStreams", {"logGroupName": "/aws/lambda/orders-api", "orderBy": "LastEventTime", "descending": True}),
              ("cloudwatch", "GetMetricData", None), ("cloudwatch", "DescribeAlarms", None),
              ("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}), ("ec2", "DescribeSecurityGroups", None),
              ("s3", "ListBuckets", {"Host": "s3.amazonaws.com"}), ("cloudformation", "DescribeStacks", None),
              ("cloudformation", "DescribeStackEvents", {"stackName": "orders-api"}), ("ecs", "ListServices", {"cluster": "prod"}),
              ("ecs", "DescribeServices", {"cluster": "prod", "services": ["orders-worker"]}), ("rds", "DescribeDBInstances", None),
              ("health", "DescribeEventAggregates", None), ("ce", "GetCostAndUsage", None),
              ("iam", "GetRole", {"roleName": "orders-api-role"}), ("iam", "ListRoles", None)]

    def console_session(pset, email, ip, ua, t0, n, extra=()):
        role = sso_role(pset, email, hexs(16), created=t0)
        add(record({"type": "SAMLUser", "principalId": f"{saml.split('/')[-1]}:{email}", "userName": email,
                    "identityProvider": b32(28)}, t0, "sts.amazonaws.com", "AssumeRoleWithSAML",
                   req={"sAMLAssertionID": "_" + uid(), "roleSessionName": email, "durationSeconds": 43200,
                        "roleArn": role.role_arn, "principalArn": saml},
                   resp={**creds_resp(role, t0, email, 43200), "subjectType": "persistent",
                         "issuer": f"https://portal.sso.{REGION}.amazonaws.com/saml/assertion/" + b32(40),
                         "audience": "https://signin.aws.amazon.com/saml", "nameQualifier": b32(28)},
                   read_only=True, ip=ip, ua=ua, resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role.role_arn}]))
        add(record(role, sec(t0, 2), "signin.amazonaws.com", "ConsoleLogin", req=None, resp={"ConsoleLogin": "Success"},
                   additional={"MobileVersion": "No", "MFAUsed": "No"}, read_only=False, ip=ip, ua=ua,
                   event_type="AwsConsoleSignIn", tls_host=None, request_id=False))
        tt = sec(t0, 5)
        calls = [rng.choice(browse) for _ in range(n)] + list(extra)
        rng.shuffle(calls)
        for svc, ev, req, *err in calls:
            tt = sec(tt, rng.expovariate(1) * 40 + 1)
            e = denied(role, err[0], "*") if err else None
            add(console_call(role, tt, f"{svc}.amazonaws.com", ev, req, ip, ua, ro=not ev.startswith(("Put", "Update", "Create")),
                             error=e))
        return role

    dana = console_session("AdministratorAccess", "dana.ops@acme.example", office[2], UA_BROWSER, at(9, 5, 31), 55,
                           [("ssm", "PutParameter", {"name": "/orders-api/prod/feature-flags", "type": "String", "overwrite": True}),
                            ("ecs", "UpdateService", {"cluster": "prod", "service": "reports-api", "desiredCount": 3})])
    console_session("ReadOnlyAccess", "sam.finance@acme.example", office[5], UA_BROWSER_WIN, at(10, 31, 2), 22,
                    [("secretsmanager", "GetSecretValue", {"secretId": "prod/finance/erp-api"}, "secretsmanager:GetSecretValue"),
                     ("ce", "GetCostAndUsage", None), ("ce", "GetCostForecast", None)])
    lee = console_session("PowerUserAccess", "lee.dev@acme.example", office[7], UA_BROWSER, at(13, 2, 40), 35,
                          [("iam", "ListUsers", None, "iam:ListUsers"),
                           ("lambda", "UpdateFunctionConfiguration20150331v2", {"functionName": "thumbnail-resizer", "memorySize": 768})])
    del dana, lee

    # --- a developer laptop on an Identity Center session from home (aws-cli) -------------------
    dev = sso_role("DeveloperAccess", "lee.dev@acme.example", hexs(16), created=at(19, 34, 0))
    t = at(19, 34, 12)
    ua = lambda c: cli(UA_CLI_MAC2, c)
    seq = [("sts", "GetCallerIdentity", None, "sts.get-caller-identity")]
    seq += [("cloudformation", "DescribeStacks", {"stackName": "orders-api"}, "cloudformation.describe-stacks")] * 2
    seq += [("logs", "FilterLogEvents", {"logGroupName": "/aws/lambda/orders-api", "startTime": 1764098000000}, "logs.tail")] * 24
    seq += [("lambda", "GetFunction20150331v2", {"functionName": "orders-api"}, "lambda.get-function"),
            ("lambda", "GetFunctionConfiguration20150331v2", {"functionName": "orders-api"}, "lambda.get-function-configuration"),
            ("s3", "ListBuckets", None, "s3.ls"), ("ecr", "GetAuthorizationToken", None, "ecr.get-login-password")]
    for svc, ev, req, c in seq:
        t = sec(t, rng.expovariate(1) * 20 + 1)
        if svc == "s3":
            add(list_buckets(dev, t, home, ua(c)))
        else:
            add(record(dev, t, f"{svc}.amazonaws.com", ev, req=req, read_only=True, ip=home, ua=ua(c)))
    t = sec(t, 15)
    add(record(dev, t, "ecr.amazonaws.com", "BatchGetImage",
               req={"imageIds": [{"imageTag": "main"}], "repositoryName": "reports-api", "registryId": ACCOUNT,
                    "acceptedMediaTypes": ["application/vnd.oci.image.manifest.v1+json"]},
               read_only=True, ip=home, ua=DOCKER_UA, resources=ecr_res("reports-api")))
    for i in range(3):
        add(record(dev, sec(t, 1 + i * 0.5), "ecr.amazonaws.com", "GetDownloadUrlForLayer",
                   req={"registryId": ACCOUNT, "repositoryName": "reports-api", "layerDigest": "sha256:" + hexs(64)},
                   read_only=True, ip=home, ua=DOCKER_UA, resources=ecr_res("reports-api")))
    t = sec(t, 300)
    add(s3_data(dev, t, "ListObjects", "acme-build-artifacts", read_only=True, ip=home, ua=ua("s3.ls"),
                extra_req={**LIST_V2, "prefix": "orders-api/", "delimiter": "/"}))
    for i in range(4):
        add(s3_data(dev, sec(t, 20 + i * 3), "GetObject", "acme-build-artifacts", f"orders-api/{hexs(40)}.zip", read_only=True,
                    ip=home, ua=ua("s3.cp"), bytes_out=rng.randint(2_000_000, 9_000_000)))
    add(s3_data(dev, sec(t, 70), "ListObjects", "acme-finance-ledger", read_only=True, ip=home, ua=ua("s3.ls"),
                extra_req=LIST_V2, error=("AccessDenied", "Access Denied")))
    t = sec(t, 600)
    for i in range(20):
        t = sec(t, rng.expovariate(1) * 30 + 1)
        add(record(dev, t, "logs.amazonaws.com", "FilterLogEvents",
                   req={"logGroupName": "/aws/lambda/thumbnail-resizer", "startTime": 1764100000000}, read_only=True,
                   ip=home, ua=ua("logs.tail")))

    # --- S3 data events from the organization's other accounts -----------------------------------
    for acct, bucket, prefix, ua_ in [(ORG_ACCOUNTS[0], "acme-shared-artifacts", "libs/", UA_ECS),
                                      (ORG_ACCOUNTS[1], "acme-build-artifacts", "orders-api/", UA_EC2)]:
        pid = role_id() + ":" + ("etl-" + hexs(8) if acct == ORG_ACCOUNTS[0] else instance_id())
        ip = aws_ip()
        t = at(0, rng.randint(0, 9))
        while t < END:
            add(s3_data(other_account(acct, pid), t, "GetObject", bucket, f"{prefix}{hexs(40)}.zip", read_only=True, ip=ip,
                        ua=ua_, bytes_out=rng.randint(200_000, 9_000_000)))
            t = sec(t, rng.expovariate(1) * 1000 / diurnal(t) + 1)

    # --- nightly backup: AWS Backup and a scheduled copy task -----------------------------------
    bk = Role("AWSBackupDefaultServiceRole", "AWSBackup-AWSBackupDefaultServiceRole", path="service-role/",
              invoked_by="backup.amazonaws.com", created=at(1, 0, 1))
    b = "backup.amazonaws.com"
    t = at(1, 0, 4)
    add(record(bk, t, "ec2.amazonaws.com", "DescribeVolumes", req={"volumeSet": {}, "filterSet": {}}, read_only=True, ip=b, ua=b))
    for i in range(6):
        vol = "vol-0" + hexs(16)
        add(record(bk, sec(t, 3 + i * 2), "ec2.amazonaws.com", "CreateSnapshot",
                   req={"volumeId": vol, "description": f"This snapshot is created by the AWS Backup service."},
                   resp={"snapshotId": "snap-0" + hexs(16), "volumeId": vol, "status": "pending"}, read_only=False, ip=b, ua=b))
        add(record(bk, sec(t, 4 + i * 2), "ec2.amazonaws.com", "CreateTags",
                   req={"resourcesSet": {"items": [{"resourceId": "snap-0" + hexs(16)}]},
                        "tagSet": {"items": [{"key": "aws:backup:source-resource", "value": vol}]}}, read_only=False, ip=b, ua=b))
    add(record(bk, sec(t, 30), "rds.amazonaws.com", "CreateDBSnapshot",
               req={"dBSnapshotIdentifier": f"awsbackup:job-{uid()}", "dBInstanceIdentifier": "orders-db"},
               read_only=False, ip=b, ua=b))
    task = hexs(32)
    br = Role("nightly-backup-task-role", task, created=at(1, 30, 2))
    ip = nat
    t = at(1, 30, 9)
    ua_ = UA_ECS_GO.replace("{svc}", "s3")
    add(s3_data(br, t, "ListObjects", "acme-orders-exports", read_only=True, ip=ip, ua=ua_,
                extra_req={**LIST_V2, "prefix": "orders/2026/11/24/"}))
    for i in range(45):
        t = sec(t, jitter(0.5, 3))
        k = f"orders/2026/11/24/{rng.randint(0, 23):02d}/{uid()}.json"
        add(s3_data(br, t, "GetObject", "acme-orders-exports", k, read_only=True, ip=ip, ua=ua_, bytes_out=rng.randint(2000, 40_000)))
        add(s3_data(br, sec(t, 0.4), "PutObject", "acme-backup-vault", "daily/2026-11-24/" + k, read_only=False, ip=ip, ua=ua_,
                    bytes_in=rng.randint(2000, 40_000)))

    R.sort(key=lambda r: r["eventTime"])
    return R


# ========================================================================================
# output


def dump(path, recs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


SCENARIOS = [scenario_lambda, scenario_ec2, scenario_ecs, scenario_iam_self, scenario_privesc, scenario_discovery, scenario_s3_outsider, scenario_root]


def check(sc):
    ids = [r["eventID"] for r in sc.recs]
    assert len(ids) == len(set(ids)), sc.name
    stepped = {e for s in sc.steps for e in s["event_ids"]}
    assert not stepped & set(sc.benign), sc.name
    assert 20 <= len(sc.recs) <= 200, (sc.name, len(sc.recs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                                  "fixtures", "cloudtrail"))
    ap.add_argument("--s3", action="store_true", help="write only the S3-delivery layout of one scenario")
    a = ap.parse_args()
    out = os.path.join(a.out, "intrusions")
    manifest = {}
    built = {}
    for i, fn in enumerate(SCENARIOS):
        reseed(SEED + 100 * (i + 1))
        sc = fn()
        check(sc)
        built[sc.name] = sc
        if not a.s3:
            dump(os.path.join(out, sc.name + ".jsonl"), sc.sorted_records())
            manifest[sc.name + ".jsonl"] = sc.manifest()
            print(f"{sc.name}.jsonl: {len(sc.recs)} records, {len(sc.steps)} steps, {len(sc.benign)} benign")
    if not a.s3 and "background" in globals():
        reseed(SEED + 7)
        bg = background()
        dump(os.path.join(out, "background.jsonl"), bg)
        manifest["background.jsonl"] = {"records": len(bg)}
        print(f"background.jsonl: {len(bg)} records")
    if not a.s3:
        with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1)
            f.write("\n")
        print("manifest steps:", sum(len(v.get("steps", [])) for v in manifest.values()))
    if "write_s3" in globals() and "iam-user-self-escalation" in built:
        reseed(SEED + 9)
        write_s3(a.out, built["iam-user-self-escalation"].sorted_records())


if __name__ == "__main__":
    main()

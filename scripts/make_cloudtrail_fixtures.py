#!/usr/bin/env python3
"""Write CloudTrail fixtures for logwarden's attack rules (Python 3 stdlib only, deterministic).

- tests/fixtures/cloudtrail/stratus/<stratus-technique-id>.jsonl: the records that one
  detonation of each Stratus Red Team AWS technique produces (the detonation only: the warm-up
  that creates the prerequisites is left out), one record per line, in time order.
- tests/fixtures/cloudtrail/benign.jsonl: a busy but benign account that deploys with Terraform
  (GitHub Actions OIDC) and CloudFormation (SAM), used by people through IAM Identity Center,
  with its applications' data events, service calls and the usual background noise.

Record shapes follow the CloudTrail record contents reference and the per-service "Logging
... API calls using AWS CloudTrail" pages (eventVersion 1.10/1.11, userIdentity with
sessionContext, tlsDetails, S3 data events with resources and additionalEventData, Lambda API
version suffixes in eventName, ...). Every identifier, key id and token is random and fake;
account ids, IPs and domains are documentation values.

Usage: python3 scripts/make_cloudtrail_fixtures.py [--out tests/fixtures/cloudtrail]
"""

import argparse
import base64
import datetime as dt
import json
import os
import random
import string
import uuid

SEED = 20261125
ACCOUNT = "123456789012"
REGION = "us-east-1"
ORG_ACCOUNTS = ["210987654321", "109876543210"]  # the organization's other accounts
EXTERNAL = "444455556666"  # an account outside the organization
T0 = dt.datetime(2026, 11, 25, 10, 0, 0, tzinfo=dt.timezone.utc)

rng = random.Random(SEED)

# ----------------------------------------------------------------------------------------
# identifiers


def reseed(seed):
    rng.seed(seed)


def uid():
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def b32(n):
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(n))


def alnum_up(n):
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


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
    # STS session tokens start with the base64 of a fixed header; the rest is opaque.
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(420))).decode()
    return "IQoJb3JpZ2luX2VjE" + body.replace("+", "/")[:540]


def s3_request_id():
    return alnum_up(16)


def amz_id_2():
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(56))).decode()


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def human_time(t):
    # the format STS uses in responseElements.credentials.expiration
    return t.strftime("%b %-d, %Y, %-I:%M:%S %p")


# ----------------------------------------------------------------------------------------
# user agents (as the SDKs and tools send them)

UA_CLI = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1019-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#{cmd}"
UA_CLI_MAC = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#{cmd}"
UA_TF = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.38.1"
UA_BOTO_LAMBDA = "Boto3/1.35.60 md/Botocore#1.35.60 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.35.60"
UA_NODE_LAMBDA = "aws-sdk-js/3.693.0 ua/2.1 os/linux#5.10.227-239.884.amzn2.x86_64 lang/js md/nodejs#20.18.0 api/{svc}#3.693.0 exec-env/AWS_Lambda_nodejs20.x m/E"
UA_GO_ECS = "aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 exec-env/AWS_ECS_FARGATE api/{svc}#1.40.0 m/E"
UA_CONSOLE = "AWS Internal"
UA_BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
UA_SAM = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#cloudformation.deploy"
UA_SAM_CLI = "Boto3/1.35.60 md/Botocore#1.35.60 ua/2.0 os/linux#6.8.0-1017-azure md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/GitHubActions cfg/retry-mode#legacy Botocore/1.35.60 aws-sam-cli/1.131.0"
UA_DD = "aws-sdk-go/1.55.5 (go1.23.2; linux; amd64) datadog-integration"


def ua_stratus():
    return "stratus-red-team_" + uid()


def ua_cli(cmd):
    return UA_CLI.format(cmd=cmd)


def ua_tf(svc):
    return UA_TF.format(svc=svc)


# ----------------------------------------------------------------------------------------
# identities


def _session(issuer_type, pid, arn, name, created, mfa=False, extra=None):
    ctx = {
        "sessionIssuer": {"type": issuer_type, "principalId": pid, "arn": arn,
                          "accountId": ACCOUNT, "userName": name},
        "attributes": {"creationDate": ts(created), "mfaAuthenticated": "true" if mfa else "false"},
    }
    if extra:
        ctx.update(extra)
    return ctx


class Role:
    """An IAM role and one of its sessions (kept stable so a principal repeats)."""

    def __init__(self, name, session, created=None, path="", web_identity=None, ec2=False, mfa=False,
                 account=ACCOUNT, invoked_by=None):
        self.name, self.session, self.account = name, session, account
        self.rid = role_id()
        self.key = temp_key()
        self.created = created or T0 - dt.timedelta(minutes=rng.randint(3, 50))
        self.path = path
        self.web_identity = web_identity
        self.ec2 = ec2
        self.mfa = mfa
        self.invoked_by = invoked_by

    @property
    def role_arn(self):
        return f"arn:aws:iam::{self.account}:role/{self.path}{self.name}"

    @property
    def arn(self):
        return f"arn:aws:sts::{self.account}:assumed-role/{self.name}/{self.session}"

    def identity(self):
        extra = {}
        if self.web_identity:
            extra["webIdFederationData"] = {"federatedProvider": self.web_identity, "attributes": {}}
        if self.ec2:
            extra["ec2RoleDelivery"] = "2.0"
        ident = {
            "type": "AssumedRole",
            "principalId": f"{self.rid}:{self.session}",
            "arn": self.arn,
            "accountId": self.account,
            "accessKeyId": self.key,
            "sessionContext": _session("Role", self.rid, self.role_arn, self.name, self.created, self.mfa, extra),
        }
        if self.invoked_by:
            ident["invokedBy"] = self.invoked_by
        return ident


class User:
    def __init__(self, name, long_term=True, account=ACCOUNT):
        self.name, self.account = name, account
        self.uid = user_id()
        self.key = long_key() if long_term else temp_key()

    @property
    def arn(self):
        return f"arn:aws:iam::{self.account}:user/{self.name}"

    def identity(self):
        return {"type": "IAMUser", "principalId": self.uid, "arn": self.arn, "accountId": self.account,
                "accessKeyId": self.key, "userName": self.name}


class Service:
    def __init__(self, host):
        self.host = host
        self.arn = None

    def identity(self):
        return {"type": "AWSService", "invokedBy": self.host}


def sso_role(permission_set, email, suffix):
    return Role(f"AWSReservedSSO_{permission_set}_{suffix}", email,
                path="aws-reserved/sso.amazonaws.com/")


# ----------------------------------------------------------------------------------------
# records

HOSTS = {"iam": "iam.amazonaws.com", "sts": "sts.amazonaws.com", "signin": None}


def host_for(source, region):
    svc = source.split(".")[0]
    if svc == "iam":
        return "iam.amazonaws.com"
    if svc == "sts":
        return f"sts.{region}.amazonaws.com"
    if svc == "signin":
        return None
    if svc == "organizations":
        return "organizations.us-east-1.amazonaws.com"
    if svc == "bedrock" and "runtime" in source:
        return f"bedrock-runtime.{region}.amazonaws.com"
    if svc == "route53resolver":
        return f"route53resolver.{region}.amazonaws.com"
    if svc == "ec2-instance-connect":
        return f"ec2-instance-connect.{region}.amazonaws.com"
    return f"{svc}.{region}.amazonaws.com"


def record(who, t, source, name, *, req=None, resp=None, read_only, ip="203.0.113.10", ua=UA_CONSOLE,
           region=REGION, error=None, category="Management", resources=None, additional=None,
           event_type="AwsApiCall", tls_host="auto", request_id=None, console=False, vpce=None,
           recipient=ACCOUNT, version="1.11", api_version=None, shared_event_id=None):
    ident = who.identity() if hasattr(who, "identity") else who
    service_call = ident.get("invokedBy") is not None and ident.get("type") != "IAMUser"
    if service_call and ident.get("type") == "AWSService":
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
    if api_version:
        r["apiVersion"] = api_version
    r["managementEvent"] = category == "Management"
    r["recipientAccountId"] = recipient
    if shared_event_id:
        r["sharedEventID"] = shared_event_id
    if vpce:
        r["vpcEndpointId"] = vpce
        r["vpcEndpointAccountId"] = ACCOUNT
    r["eventCategory"] = category
    if tls_host == "auto":
        tls_host = None if ident.get("type") == "AWSService" or ip.endswith("amazonaws.com") else host_for(source, region)
    if tls_host:
        r["tlsDetails"] = {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": tls_host}
    if console:
        r["sessionCredentialFromConsole"] = "true"
    return r


def s3_data(who, t, name, bucket, key=None, *, read_only, ip, ua, extra_req=None, resp=None, error=None,
            bytes_out=0, bytes_in=0, vpce=None, region=REGION):
    req = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com"}
    if key is not None:
        req["key"] = key
    if extra_req:
        req.update(extra_req)
    res = []
    if key is not None:
        res.append({"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"})
    else:
        res.append({"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/"})
    res.append({"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"})
    add = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": bytes_in,
           "AuthenticationMethod": "AuthHeader", "x-amz-id-2": amz_id_2(), "bytesTransferredOut": bytes_out}
    r = record(who, t, "s3.amazonaws.com", name, req=req, resp=resp, read_only=read_only, ip=ip, ua=ua,
               error=error, category="Data", resources=res, additional=add, request_id=s3_request_id(),
               tls_host=f"{bucket}.s3.{region}.amazonaws.com", vpce=vpce, version="1.10", region=region)
    return r


def s3_mgmt(who, t, name, bucket, req_extra=None, *, read_only, ip, ua, error=None, resp=None, region=REGION):
    req = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com"}
    if req_extra:
        req.update(req_extra)
    add = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0,
           "AuthenticationMethod": "AuthHeader", "x-amz-id-2": amz_id_2(), "bytesTransferredOut": 0}
    return record(who, t, "s3.amazonaws.com", name, req=req, resp=resp, read_only=read_only, ip=ip, ua=ua,
                  error=error, resources=[{"accountId": ACCOUNT, "type": "AWS::S3::Bucket",
                                           "ARN": f"arn:aws:s3:::{bucket}"}],
                  additional=add, request_id=s3_request_id(), tls_host=f"{bucket}.s3.{region}.amazonaws.com",
                  version="1.10", region=region)


def lambda_fn_resp(name, role_arn, runtime="python3.12", layers=None, code_size=None):
    r = {"functionName": name, "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
         "runtime": runtime, "role": role_arn, "handler": "app.handler",
         "codeSize": code_size or rng.randint(4000, 9_000_000), "description": "", "timeout": 30,
         "memorySize": 512, "lastModified": None, "codeSha256": base64.b64encode(bytes(rng.getrandbits(8) for _ in range(32))).decode(),
         "version": "$LATEST", "tracingConfig": {"mode": "PassThrough"},
         "revisionId": uid(), "state": "Active", "lastUpdateStatus": "InProgress",
         "packageType": "Zip", "architectures": ["arm64"], "ephemeralStorage": {"size": 512},
         "snapStart": {"applyOn": "None", "optimizationStatus": "Off"},
         "runtimeVersionConfig": {"runtimeVersionArn": f"arn:aws:lambda:{REGION}::runtime:" + hexs(64)},
         "loggingConfig": {"logFormat": "Text", "logGroup": f"/aws/lambda/{name}"}}
    if layers:
        r["layers"] = [{"arn": l, "codeSize": rng.randint(100_000, 9_000_000)} for l in layers]
    return r


def creds_resp(role, t, session_name, duration=3600):
    return {"credentials": {"accessKeyId": temp_key(), "sessionToken": session_token(),
                            "expiration": human_time(t + dt.timedelta(seconds=duration))},
            "assumedRoleUser": {"assumedRoleId": f"{role.rid}:{session_name}",
                                "arn": f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}"}}


def policy_json(statements, pretty=False):
    doc = {"Version": "2012-10-17", "Statement": statements}
    return json.dumps(doc, indent=4) if pretty else json.dumps(doc, separators=(",", ":"))


# ----------------------------------------------------------------------------------------
# shared cast of the benign account

GH_OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"


def cast():
    c = {}
    c["tf"] = Role("github-actions-terraform", "GitHubActions", web_identity=GH_OIDC)
    c["sam"] = Role("github-actions-sam-deploy", "GitHubActions", web_identity=GH_OIDC)
    c["cfn"] = Role("cfn-exec-orders", "AWSCloudFormation", invoked_by="cloudformation.amazonaws.com")
    c["jane"] = sso_role("AdministratorAccess", "jane.doe@example.com", "4f9c2a1b7d3e8f60")
    c["raj"] = sso_role("PowerUserAccess", "raj.patel@example.com", "b7d3e8f604f9c2a1")
    c["mei"] = sso_role("ReadOnlyAccess", "mei.lin@example.com", "2a1b7d3e8f604f9c")
    c["fn_orders"] = Role("orders-api-role", "orders-api")
    c["fn_thumbs"] = Role("thumbnailer-role", "thumbnailer")
    c["fn_billing"] = Role("billing-sync-role", "billing-sync")
    c["fn_reports"] = Role("reports-export-role", "reports-export")
    c["ecs_web"] = Role("web-task-role", "7c1e0e2f4b5a4d2bb1f1c0f8a9d6e3b2")
    c["ec2_batch"] = Role("batch-worker-instance-role", "i-0" + hexs(16), ec2=True)
    c["datadog"] = Role("DatadogIntegrationRole", "DatadogAWSIntegration", account=ACCOUNT)
    c["config"] = Role("AWSServiceRoleForConfig", "AWSConfig-Describe", path="aws-service-role/config.amazonaws.com/",
                       invoked_by="config.amazonaws.com")
    c["mw"] = Role("ssm-maintenance-window-role", "b3f0c5e0-ssm", invoked_by="ssm.amazonaws.com")
    return c


# ----------------------------------------------------------------------------------------
# Stratus detonations


def attacker_user(name="svc-reporting"):
    return User(name)


def ip_attacker():
    return rng.choice(["203.0.113.", "198.51.100.", "192.0.2."]) + str(rng.randint(20, 250))


def stratus_records():
    """Return {technique_id: [records]}."""
    out = {}
    t = T0 + dt.timedelta(hours=6)

    def nt(sec=1.0):
        nonlocal t
        t = t + dt.timedelta(seconds=sec)
        return t

    # --- credential access -------------------------------------------------------------
    role = Role("stratus-red-team-ec2-get-password-data-role", "aws-go-sdk-" + str(1795000000000000000 + rng.randint(0, 10**12)))
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    recs = [record(op, nt(), "sts.amazonaws.com", "AssumeRole",
                   req={"roleArn": role.role_arn, "roleSessionName": role.session},
                   resp=creds_resp(role, t, role.session), read_only=True, ip=ip, ua=ua)]
    for _ in range(30):
        iid = "i-" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(16))
        recs.append(record(role, nt(0.2), "ec2.amazonaws.com", "GetPasswordData", req={"instanceId": iid},
                           read_only=True, ip=ip, ua=ua,
                           error=("Client.UnauthorizedOperation",
                                  f"You are not authorized to perform this operation. User: {role.arn} is not authorized to perform: ec2:GetPasswordData on resource: arn:aws:ec2:{REGION}:{ACCOUNT}:instance/* because no identity-based policy allows the ec2:GetPasswordData action. Encoded authorization failure message: " + b32(180))))
    out["aws.credential-access.ec2-get-password-data"] = recs

    # steal instance credentials: SendCommand on the instance, then the role's credentials used outside
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    iid = instance_id()
    inst = Role("stratus-red-team-ec2-steal-credentials-role", iid, ec2=True)
    cmd_id = uid()
    recs = [record(op, nt(60), "ssm.amazonaws.com", "SendCommand",
                   req={"instanceIds": [iid], "documentName": "AWS-RunShellScript",
                        "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": False},
                   resp={"command": {"commandId": cmd_id, "documentName": "AWS-RunShellScript", "documentVersion": "$DEFAULT",
                                     "comment": "", "expiresAfter": "Nov 25, 2026, 6:03:01 PM", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                     "instanceIds": [iid], "targets": [], "requestedDateTime": "Nov 25, 2026, 4:01:01 PM",
                                     "status": "Pending", "statusDetails": "Pending", "outputS3Region": REGION,
                                     "outputS3BucketName": "", "outputS3KeyPrefix": "", "maxConcurrency": "50",
                                     "maxErrors": "0", "targetCount": 1, "completedCount": 0, "errorCount": 0,
                                     "deliveryTimedOutCount": 0, "serviceRole": "", "notificationConfig": {"notificationArn": "", "notificationEvents": [], "notificationType": ""},
                                     "cloudWatchOutputConfig": {"cloudWatchLogGroupName": "", "cloudWatchOutputEnabled": False},
                                     "timeoutSeconds": 3600, "alarmConfiguration": {"ignorePollAlarmFailure": False, "alarms": []},
                                     "triggeredAlarms": []}},
                   read_only=False, ip=ip, ua=ua)]
    recs.append(record(op, nt(2), "ssm.amazonaws.com", "GetCommandInvocation", req={"commandId": cmd_id, "instanceId": iid},
                       read_only=True, ip=ip, ua=ua))
    recs.append(record(inst, nt(8), "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip, ua=ua))
    recs.append(record(inst, nt(1), "ec2.amazonaws.com", "DescribeInstances",
                       req={"instancesSet": {}, "filterSet": {}}, read_only=True, ip=ip, ua=ua))
    out["aws.credential-access.ec2-steal-instance-credentials"] = recs

    # secrets manager batch
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    recs = []
    for _ in range(5):
        recs.append(record(op, nt(0.4), "secretsmanager.amazonaws.com", "BatchGetSecretValue",
                           req={"filters": [{"key": "tag-key", "values": ["StratusRedTeam"]}]},
                           read_only=True, ip=ip, ua=ua))
    out["aws.credential-access.secretsmanager-batch-retrieve-secrets"] = recs

    # secrets manager one by one
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    recs = [record(op, nt(), "secretsmanager.amazonaws.com", "ListSecrets",
                   req={"filters": [{"key": "tag-key", "values": ["StratusRedTeam"]}], "maxResults": 100},
                   read_only=True, ip=ip, ua=ua)]
    for i in range(20):
        recs.append(record(op, nt(0.3), "secretsmanager.amazonaws.com", "GetSecretValue",
                           req={"secretId": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:stratus-red-team-retrieve-secret-{i}-{''.join(rng.choice(string.ascii_letters + string.digits) for _ in range(6))}"},
                           read_only=True, ip=ip, ua=ua))
    out["aws.credential-access.secretsmanager-retrieve-secrets"] = recs

    # SSM parameters
    op = sso_role("AdministratorAccess", "security.tester@example.com", "4f9c2a1b7d3e8f60")
    ua, ip = ua_stratus(), ip_attacker()
    recs = []
    for page in range(3):
        recs.append(record(op, nt(0.5), "ssm.amazonaws.com", "DescribeParameters",
                           req={"maxResults": 10} if page == 0 else {"maxResults": 10, "nextToken": "AAEAA" + b32(60)},
                           read_only=True, ip=ip, ua=ua))
        names = [f"/credentials/stratus-red-team/credentials-{page * 10 + i}" for i in range(10)]
        recs.append(record(op, nt(0.3), "ssm.amazonaws.com", "GetParameters",
                           req={"names": names, "withDecryption": True}, read_only=True, ip=ip, ua=ua))
    out["aws.credential-access.ssm-retrieve-securestring-parameters"] = recs

    # --- defense evasion ------------------------------------------------------------------
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    trail = "stratus-red-team-cloudtrail-trail-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    out["aws.defense-evasion.cloudtrail-delete"] = [
        record(op, nt(30), "cloudtrail.amazonaws.com", "DeleteTrail", req={"name": trail}, resp=None,
               read_only=False, ip=ip, ua=ua)]

    trail = "stratus-red-team-ctes-trail-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    sel = [{"readWriteType": "ReadOnly", "includeManagementEvents": False,
            "dataResources": [{"type": "AWS::S3::Object", "values": []}, {"type": "AWS::Lambda::Function", "values": []}],
            "excludeManagementEventSources": []}]
    out["aws.defense-evasion.cloudtrail-event-selectors"] = [
        record(op, nt(30), "cloudtrail.amazonaws.com", "PutEventSelectors", req={"trailName": trail, "eventSelectors": sel},
               resp={"trailARN": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{trail}", "eventSelectors": sel},
               read_only=False, ip=ip, ua=ua_stratus())]

    bucket = "stratus-red-team-ctlr-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    out["aws.defense-evasion.cloudtrail-lifecycle-rule"] = [
        s3_mgmt(op, nt(30), "PutBucketLifecycle", bucket,
                {"lifecycle": "", "LifecycleConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                 "Rule": {"Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}, "ID": "nuke-cloudtrail-logs-after-1-day"}}},
                read_only=False, ip=ip, ua=ua_stratus())]

    trail = "stratus-red-team-cloudtrail-trail-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    out["aws.defense-evasion.cloudtrail-stop"] = [
        record(op, nt(30), "cloudtrail.amazonaws.com", "StopLogging",
               req={"name": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{trail}"}, read_only=False, ip=ip, ua=ua_stratus())]

    qid = "rqlc-" + hexs(16)
    name = "stratus-red-team-dns-delete-config-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    out["aws.defense-evasion.dns-delete-logs"] = [
        record(op, nt(30), "route53resolver.amazonaws.com", "DeleteResolverQueryLogConfig",
               req={"resolverQueryLogConfigId": qid},
               resp={"resolverQueryLogConfig": {"id": qid, "ownerId": ACCOUNT, "status": "DELETING", "shareStatus": "NOT_SHARED",
                                                "associationCount": 0, "arn": f"arn:aws:route53resolver:{REGION}:{ACCOUNT}:resolver-query-log-config/{qid}",
                                                "name": name, "destinationArn": f"arn:aws:s3:::{name.replace('config', 'bucket')}",
                                                "creatorRequestId": "terraform-" + hexs(26), "creationTime": "2026-11-25T15:59:12.514Z"}},
               read_only=False, ip=ip, ua=ua_stratus(), version="1.08")]

    out["aws.defense-evasion.organizations-leave"] = [
        record(op, nt(30), "organizations.amazonaws.com", "LeaveOrganization", req=None, resp=None, read_only=False,
               ip=ip, ua=ua_stratus(),
               error=("AccessDeniedException", "You don't have permissions to access this resource."))]

    fl = "fl-" + hexs(17)
    out["aws.defense-evasion.vpc-remove-flow-logs"] = [
        record(op, nt(30), "ec2.amazonaws.com", "DeleteFlowLogs",
               req={"DeleteFlowLogsRequest": {"FlowLogId": {"tag": 1, "content": fl}}},
               resp={"DeleteFlowLogsResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
                                                "requestId": uid(), "unsuccessful": ""}},
               read_only=False, ip=ip, ua=ua_stratus())]

    gid = b32(12).lower()
    out["aws.defense-evasion.bedrock-guardrail-delete"] = [
        record(op, nt(30), "bedrock.amazonaws.com", "DeleteGuardrail",
               req={"guardrailIdentifier": gid}, resp=None, read_only=False, ip=ip, ua=ua_stratus())]
    out["aws.defense-evasion.bedrock-model-invocation-logging-delete"] = [
        record(op, nt(30), "bedrock.amazonaws.com", "DeleteModelInvocationLoggingConfiguration",
               req=None, resp=None, read_only=False, ip=ip, ua=ua_stratus())]

    # --- discovery ------------------------------------------------------------------------
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    iid = instance_id()
    inst = Role("stratus-red-team-ec2-enumerate-role", iid, ec2=True)
    recs = [record(op, nt(60), "ssm.amazonaws.com", "SendCommand",
                   req={"instanceIds": [iid], "documentName": "AWS-RunShellScript",
                        "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": False},
                   resp={"command": {"commandId": uid(), "documentName": "AWS-RunShellScript", "instanceIds": [iid],
                                     "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "status": "Pending", "targetCount": 1}},
                   read_only=False, ip=ip, ua=ua)]
    nat_ip = "198.51.100." + str(rng.randint(2, 250))
    ua_inst = "aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.1.115-126.197.amzn2023.x86_64 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/EC2 cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off md/command#{cmd}"
    calls = [("sts.amazonaws.com", "GetCallerIdentity", None, "sts.get-caller-identity"),
             ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"}, "s3api.list-buckets"),
             ("iam.amazonaws.com", "GetAccountSummary", None, "iam.get-account-summary"),
             ("iam.amazonaws.com", "ListRoles", None, "iam.list-roles"),
             ("iam.amazonaws.com", "ListUsers", None, "iam.list-users"),
             ("iam.amazonaws.com", "GetAccountAuthorizationDetails", None, "iam.get-account-authorization-details"),
             ("ec2.amazonaws.com", "DescribeSnapshots", {"snapshotSet": {}, "ownersSet": {}, "filterSet": {}, "sharedUsersSet": {}}, "ec2.describe-snapshots"),
             ("cloudtrail.amazonaws.com", "DescribeTrails", None, "cloudtrail.describe-trails"),
             ("guardduty.amazonaws.com", "ListDetectors", None, "guardduty.list-detectors")]
    for src, ev, req, cmd in calls:
        recs.append(record(inst, nt(1.5), src, ev, req=req, read_only=True, ip=nat_ip,
                           ua=ua_inst.format(cmd=cmd)))
    out["aws.discovery.ec2-enumerate-from-instance"] = recs

    role = Role("stratus-red-team-get-user-data-role", "aws-go-sdk-" + str(1795000000000000000 + rng.randint(0, 10**12)))
    ua, ip = ua_stratus(), ip_attacker()
    recs = [record(op, nt(30), "sts.amazonaws.com", "AssumeRole",
                   req={"roleArn": role.role_arn, "roleSessionName": role.session},
                   resp=creds_resp(role, t, role.session), read_only=True, ip=ip, ua=ua)]
    for _ in range(15):
        iid = "i-" + hexs(8)
        recs.append(record(role, nt(0.2), "ec2.amazonaws.com", "DescribeInstanceAttribute",
                           req={"instanceId": iid, "attribute": "userData"}, read_only=True, ip=ip, ua=ua,
                           error=("Client.UnauthorizedOperation",
                                  f"You are not authorized to perform this operation. User: {role.arn} is not authorized to perform: ec2:DescribeInstanceAttribute on resource: arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid} because no identity-based policy allows the ec2:DescribeInstanceAttribute action. Encoded authorization failure message: " + b32(160))))
    out["aws.discovery.ec2-download-user-data"] = recs

    role = Role("stratus-red-team-ses-enumerate-role", "aws-go-sdk-" + str(1795000000000000000 + rng.randint(0, 10**12)))
    ua, ip = ua_stratus(), ip_attacker()
    out["aws.discovery.ses-enumerate"] = [
        record(op, nt(30), "sts.amazonaws.com", "AssumeRole", req={"roleArn": role.role_arn, "roleSessionName": role.session},
               resp=creds_resp(role, t, role.session), read_only=True, ip=ip, ua=ua),
        record(role, nt(1), "ses.amazonaws.com", "ListIdentities", req={"maxItems": 10}, read_only=True, ip=ip, ua=ua),
        record(role, nt(1), "ses.amazonaws.com", "GetSendQuota", req=None, read_only=True, ip=ip, ua=ua)]

    op_b = User("ml-experiments")
    ua, ip = ua_stratus(), ip_attacker()
    recs = []
    for reg in ["us-east-1", "us-west-2", "eu-west-2", "eu-west-3", "ap-northeast-2", "ap-southeast-2"]:
        ok = reg in ("us-east-1", "us-west-2")
        recs.append(record(op_b, nt(1.2), "bedrock.amazonaws.com", "InvokeModel",
                           req={"modelId": "anthropic.claude-3-sonnet-20240229-v1:0"} if ok else {"modelId": "anthropic.claude-3-sonnet-20240229-v1:0"},
                           read_only=True, ip=ip, ua=ua, region=reg, tls_host=f"bedrock-runtime.{reg}.amazonaws.com",
                           error=None if ok else ("AccessDeniedException", "You don't have access to the model with the specified model ID.")))
    out["aws.discovery.bedrock-enumerate-models-multiple-regions"] = recs

    # --- execution ------------------------------------------------------------------------
    role = Role("stratus-red-team-ec2-lui-role", "aws-go-sdk-" + str(1795000000000000000 + rng.randint(0, 10**12)))
    ua, ip = ua_stratus(), ip_attacker()
    sub = "subnet-0" + hexs(16)
    out["aws.execution.ec2-launch-unusual-instances"] = [
        record(op, nt(30), "sts.amazonaws.com", "AssumeRole", req={"roleArn": role.role_arn, "roleSessionName": role.session},
               resp=creds_resp(role, t, role.session), read_only=True, ip=ip, ua=ua),
        record(role, nt(3), "ec2.amazonaws.com", "RunInstances",
               req={"instancesSet": {"items": [{"imageId": "ami-0" + hexs(16), "minCount": 1, "maxCount": 10}]},
                    "instanceType": "p2.xlarge", "blockDeviceMapping": {}, "monitoring": {"enabled": False},
                    "subnetId": sub, "disableApiTermination": False, "disableApiStop": False, "clientToken": uid()},
               read_only=False, ip=ip, ua=ua,
               error=("Client.UnauthorizedOperation",
                      f"You are not authorized to perform this operation. User: {role.arn} is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:{REGION}:{ACCOUNT}:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: " + b32(200)))]

    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    iid = instance_id()
    st = lambda a, b, c: {"instancesSet": {"items": [{"instanceId": iid, "currentState": {"code": a[0], "name": a[1]},
                                                       "previousState": {"code": b[0], "name": b[1]}}]}}
    # the SDK waiters poll DescribeInstances while the instance stops and starts
    poll = lambda: record(op, nt(rng.uniform(2, 5)), "ec2.amazonaws.com", "DescribeInstances",
                          req={"instancesSet": {"items": [{"instanceId": iid}]}, "filterSet": {}}, read_only=True, ip=ip, ua=ua)
    recs = [record(op, nt(30), "ec2.amazonaws.com", "StopInstances", req={"instancesSet": {"items": [{"instanceId": iid}]}, "force": False},
                   resp={"requestId": uid(), **st((64, "stopping"), (16, "running"), None)}, read_only=False, ip=ip, ua=ua)]
    recs += [poll() for _ in range(12)]
    recs.append(record(op, nt(1), "ec2.amazonaws.com", "ModifyInstanceAttribute", req={"instanceId": iid, "userData": "<sensitiveDataRemoved>"},
                       resp={"requestId": uid(), "_return": True}, read_only=False, ip=ip, ua=ua))
    recs.append(record(op, nt(1), "ec2.amazonaws.com", "StartInstances", req={"instancesSet": {"items": [{"instanceId": iid}]}},
                       resp={"requestId": uid(), **st((0, "pending"), (80, "stopped"), None)}, read_only=False, ip=ip, ua=ua))
    recs += [poll() for _ in range(6)]
    out["aws.execution.ec2-user-data"] = recs

    nb = "stratus-red-team-sagemaker-notebook-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    attacker = User("sagemaker-operator")
    ua, ip = ua_stratus(), ip_attacker()
    out["aws.execution.sagemaker-update-lifecycle-config"] = [
        record(attacker, nt(30), "sagemaker.amazonaws.com", "CreateNotebookInstanceLifecycleConfig",
               req={"notebookInstanceLifecycleConfigName": "priv-esc-config", "onStart": [{"content": "HIDDEN_DUE_TO_SECURITY_REASONS"}]},
               resp={"notebookInstanceLifecycleConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance-lifecycle-config/priv-esc-config"},
               read_only=False, ip=ip, ua=ua),
        record(attacker, nt(1), "sagemaker.amazonaws.com", "StopNotebookInstance", req={"notebookInstanceName": nb},
               read_only=False, ip=ip, ua=ua),
        record(attacker, nt(95), "sagemaker.amazonaws.com", "UpdateNotebookInstance",
               req={"notebookInstanceName": nb, "lifecycleConfigName": "priv-esc-config"}, read_only=False, ip=ip, ua=ua),
        record(attacker, nt(120), "sagemaker.amazonaws.com", "StartNotebookInstance", req={"notebookInstanceName": nb},
               read_only=False, ip=ip, ua=ua)]

    iids = [instance_id() for _ in range(3)]
    op = sso_role("AdministratorAccess", "security.tester@example.com", "4f9c2a1b7d3e8f60")
    ua, ip = ua_stratus(), ip_attacker()
    cid = uid()
    out["aws.execution.ssm-send-command"] = [
        record(op, nt(60), "ssm.amazonaws.com", "SendCommand",
               req={"instanceIds": iids, "documentName": "AWS-RunShellScript", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "interactive": False},
               resp={"command": {"commandId": cid, "documentName": "AWS-RunShellScript", "documentVersion": "$DEFAULT", "instanceIds": iids,
                                 "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "status": "Pending", "statusDetails": "Pending",
                                 "targetCount": 3, "completedCount": 0, "errorCount": 0, "timeoutSeconds": 3600, "maxConcurrency": "50", "maxErrors": "0"}},
               read_only=False, ip=ip, ua=ua)] + [
        record(op, nt(2), "ssm.amazonaws.com", "GetCommandInvocation", req={"commandId": cid, "instanceId": i}, read_only=True, ip=ip, ua=ua)
        for i in iids]

    iids = [instance_id() for _ in range(3)]
    ua, ip = ua_stratus(), ip_attacker()
    recs = []
    for i in iids:
        sid = f"{op.session}-" + hexs(17)
        recs.append(record(op, nt(2), "ssm.amazonaws.com", "StartSession", req={"target": i},
                           resp={"sessionId": sid, "tokenValue": "Value hidden due to security reasons.",
                                 "streamUrl": f"wss://ssmmessages.{REGION}.amazonaws.com/v1/data-channel/{sid}?role=publish_subscribe&cell-number=" + b32(40)},
                           read_only=False, ip=ip, ua=ua))
        recs.append(record(op, nt(1), "ssm.amazonaws.com", "TerminateSession", req={"sessionId": sid}, resp={"sessionId": sid},
                           read_only=False, ip=ip, ua=ua))
    out["aws.execution.ssm-start-session"] = recs

    # --- exfiltration ---------------------------------------------------------------------
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    sg = "sg-0" + hexs(16)
    out["aws.exfiltration.ec2-security-group-open-port-22-ingress"] = [
        record(op, nt(30), "ec2.amazonaws.com", "AuthorizeSecurityGroupIngress",
               req={"groupId": sg, "ipPermissions": {}, "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIp": "0.0.0.0/0"},
               resp={"requestId": uid(), "_return": True, "securityGroupRuleSet": {"items": [
                   {"groupOwnerId": ACCOUNT, "groupId": sg, "securityGroupRuleId": "sgr-0" + hexs(16), "isEgress": False,
                    "ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "0.0.0.0/0"}]}},
               read_only=False, ip=ip, ua=ua)]

    ami = "ami-0" + hexs(16)
    out["aws.exfiltration.ec2-share-ami"] = [
        record(op, nt(30), "ec2.amazonaws.com", "ModifyImageAttribute",
               req={"imageId": ami, "launchPermission": {"add": {"items": [{"userId": "210099887766"}]}}, "attributeType": "launchPermission"},
               resp={"requestId": uid(), "_return": True}, read_only=False, ip=ip, ua=ua_stratus())]

    snap = "snap-0" + hexs(16)
    out["aws.exfiltration.ec2-share-ebs-snapshot"] = [
        record(op, nt(30), "ec2.amazonaws.com", "ModifySnapshotAttribute",
               req={"snapshotId": snap, "createVolumePermission": {"add": {"items": [{"userId": "210099887766"}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"},
               resp={"requestId": uid(), "_return": True}, read_only=False, ip=ip, ua=ua_stratus())]

    dbs = "exfiltration"
    out["aws.exfiltration.rds-share-snapshot"] = [
        record(op, nt(30), "rds.amazonaws.com", "ModifyDBSnapshotAttribute",
               req={"dBSnapshotIdentifier": dbs, "attributeName": "restore", "valuesToAdd": ["777788889999"]},
               resp={"dBSnapshotIdentifier": dbs, "dBSnapshotAttributes": [{"attributeName": "restore", "attributeValues": ["777788889999"]}]},
               read_only=False, ip=ip, ua=ua_stratus(), version="1.08")]

    bucket = "stratus-red-team-bdrs3-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
    pol = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:root"},
                                                     "Action": ["s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"],
                                                     "Resource": [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{bucket}"]}]}
    out["aws.exfiltration.s3-backdoor-bucket-policy"] = [
        s3_mgmt(op, nt(30), "PutBucketPolicy", bucket, {"bucketPolicy": pol, "policy": ""}, read_only=False, ip=ip, ua=ua_stratus())]

    # --- impact ---------------------------------------------------------------------------
    op = sso_role("AdministratorAccess", "security.tester@example.com", "4f9c2a1b7d3e8f60")
    ua, ip = ua_stratus(), ip_attacker()
    out["aws.impact.bedrock-invoke-model"] = [
        record(op, nt(30), "bedrock.amazonaws.com", "ListFoundationModels", req=None, read_only=True, ip=ip, ua=ua),
        record(op, nt(1), "bedrock.amazonaws.com", "GetFoundationModelAvailability", req={"modelId": "anthropic.claude-v2"},
               read_only=True, ip=ip, ua="Go-http-client/1.1"),
        record(op, nt(2), "bedrock.amazonaws.com", "InvokeModel", req={"modelId": "anthropic.claude-v2"}, read_only=True, ip=ip, ua=ua,
               tls_host=f"bedrock-runtime.{REGION}.amazonaws.com")]

    op = User("christophe.ops")
    for tid, mode in [("aws.impact.s3-ransomware-batch-deletion", "batch"),
                      ("aws.impact.s3-ransomware-individual-deletion", "single"),
                      ("aws.impact.s3-ransomware-client-side-encryption", "ssec")]:
        ua, ip = ua_stratus(), ip_attacker()
        bucket = "stratus-red-team-ransomware-bucket-" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6))
        ext = ["sql", "txt", "docx", "pdf", "csv", "xlsx", "png", "zip", "bak", "json"]
        keys = [f"{b32(8).lower()}.{rng.choice(ext)}" for _ in range(51)]
        recs = [s3_data(op, nt(20), "ListObjects" if mode == "ssec" else "ListObjectVersions", bucket, None,
                        extra_req={"list-type": "2"} if mode == "ssec" else {"versions": ""}, read_only=True, ip=ip, ua=ua, bytes_out=18764)]
        for k in keys:
            recs.append(s3_data(op, nt(0.1), "GetObject", bucket, k, read_only=True, ip=ip, ua=ua, bytes_out=rng.randint(200, 90000)))
        if mode == "batch":
            recs.append(s3_data(op, nt(1), "ListObjectVersions", bucket, None, extra_req={"versions": ""}, read_only=True, ip=ip, ua=ua, bytes_out=18764))
            recs.append(s3_data(op, nt(1), "DeleteObjects", bucket, None, extra_req={"delete": "", "x-id": "DeleteObjects"},
                                read_only=False, ip=ip, ua=ua, bytes_in=5530))
        elif mode == "single":
            recs.append(s3_data(op, nt(1), "ListObjectVersions", bucket, None, extra_req={"versions": ""}, read_only=True, ip=ip, ua=ua, bytes_out=18764))
            for k in keys:
                recs.append(s3_data(op, nt(0.1), "DeleteObject", bucket, k, extra_req={"versionId": b32(32).lower(), "x-id": "DeleteObject"},
                                    read_only=False, ip=ip, ua=ua))
        else:
            for k in keys:
                recs.append(s3_data(op, nt(0.1), "CopyObject", bucket, k,
                                    extra_req={"x-amz-server-side-encryption-customer-algorithm": "AES256",
                                               "x-amz-copy-source": f"{bucket}/{k}", "x-id": "CopyObject"},
                                    resp={"x-amz-server-side-encryption-customer-algorithm": "AES256"},
                                    read_only=False, ip=ip, ua=ua, bytes_in=0))
        recs.append(s3_data(op, nt(1), "PutObject", bucket, "FILES-DELETED.txt", extra_req={"x-id": "PutObject"},
                            read_only=False, ip=ip, ua=ua, bytes_in=236))
        out[tid] = recs

    ami = "ami-0" + hexs(16)
    out["aws.impact.ec2-deregister-ami"] = [
        record(op, nt(30), "ec2.amazonaws.com", "DeregisterImage", req={"imageId": ami}, resp={"requestId": uid(), "_return": True},
               read_only=False, ip=ip_attacker(), ua=ua_stratus())]

    # --- initial access / lateral movement --------------------------------------------------
    victim = User("stratus-red-team-console-user")
    out["aws.initial-access.console-login-without-mfa"] = [
        record({"type": "IAMUser", "principalId": victim.uid, "arn": victim.arn, "accountId": ACCOUNT, "userName": victim.name},
               nt(30), "signin.amazonaws.com", "ConsoleLogin", req=None, resp={"ConsoleLogin": "Success"},
               additional={"LoginTo": "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_" + hexs(16),
                           "MobileVersion": "No", "MFAUsed": "No"},
               read_only=False, ip=ip_attacker(), ua="Go-http-client/1.1", event_type="AwsConsoleSignIn", request_id=False, tls_host=None)]

    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + b32(43) + " stratus"
    recs = []
    for _ in range(3):
        recs.append(record(op, nt(1), "ec2-instance-connect.amazonaws.com", "SendSSHPublicKey",
                           req={"instanceId": instance_id(), "instanceOSUser": "ec2-user", "sSHPublicKey": pub},
                           resp={"requestId": uid(), "success": True}, read_only=False, ip=ip, ua=ua))
    out["aws.lateral-movement.ec2-instance-connect"] = recs

    ua, ip = ua_stratus(), ip_attacker()
    recs = [record(op, nt(20), "ec2.amazonaws.com", "GetSerialConsoleAccessStatus", req={"GetSerialConsoleAccessStatusRequest": ""},
                   resp={"GetSerialConsoleAccessStatusResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": uid(), "serialConsoleAccessEnabled": False}},
                   read_only=True, ip=ip, ua=ua),
            record(op, nt(1), "ec2.amazonaws.com", "EnableSerialConsoleAccess", req={"EnableSerialConsoleAccessRequest": ""},
                   resp={"EnableSerialConsoleAccessResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": uid(), "serialConsoleAccessEnabled": True}},
                   read_only=False, ip=ip, ua=ua)]
    for _ in range(3):
        recs.append(record(op, nt(1), "ec2-instance-connect.amazonaws.com", "SendSerialConsoleSSHPublicKey",
                           req={"instanceId": instance_id(), "serialPort": 0, "sSHPublicKey": pub},
                           resp={"requestId": uid(), "success": True}, read_only=False, ip=ip, ua=ua))
    recs.append(record(op, nt(1), "ec2.amazonaws.com", "DisableSerialConsoleAccess", req={"DisableSerialConsoleAccessRequest": ""},
                       resp={"DisableSerialConsoleAccessResponse": {"xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/", "requestId": uid(), "serialConsoleAccessEnabled": False}},
                       read_only=False, ip=ip, ua=ua))
    out["aws.lateral-movement.ec2-serial-console-send-ssh-public-key"] = recs

    # --- persistence / privilege escalation -------------------------------------------------
    op = User("christophe.ops")
    ua, ip = ua_stratus(), ip_attacker()
    rname = "stratus-red-team-backdoor-r-role"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:root"}, "Action": "sts:AssumeRole"}]}, indent=2)
    out["aws.persistence.iam-backdoor-role"] = [
        record(op, nt(30), "iam.amazonaws.com", "UpdateAssumeRolePolicy", req={"roleName": rname, "policyDocument": trust},
               read_only=False, ip=ip, ua=ua)]

    uname = "stratus-red-team-backdoor-u-user"
    out["aws.persistence.iam-backdoor-user"] = [
        record(op, nt(30), "iam.amazonaws.com", "CreateAccessKey", req={"userName": uname},
               resp={"accessKey": {"userName": uname, "accessKeyId": long_key(), "status": "Active", "createDate": "Nov 25, 2026, 4:20:11 PM"}},
               read_only=False, ip=ip, ua=ua_stratus())]

    ua = ua_stratus()
    uname = "stratus-red-team-malicious-iam-user"
    out["aws.persistence.iam-create-admin-user"] = [
        record(op, nt(30), "iam.amazonaws.com", "CreateUser", req={"userName": uname, "tags": [{"key": "StratusRedTeam", "value": "true"}]},
               resp={"user": {"path": "/", "userName": uname, "userId": user_id(), "arn": f"arn:aws:iam::{ACCOUNT}:user/{uname}",
                              "createDate": "Nov 25, 2026, 4:21:40 PM", "tags": [{"key": "StratusRedTeam", "value": "true"}]}},
               read_only=False, ip=ip, ua=ua),
        record(op, nt(1), "iam.amazonaws.com", "AttachUserPolicy", req={"userName": uname, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
               read_only=False, ip=ip, ua=ua),
        record(op, nt(1), "iam.amazonaws.com", "CreateAccessKey", req={"userName": uname},
               resp={"accessKey": {"userName": uname, "accessKeyId": long_key(), "status": "Active", "createDate": "Nov 25, 2026, 4:21:42 PM"}},
               read_only=False, ip=ip, ua=ua)]

    ua = ua_stratus()
    rname = "stratus-red-team-malicious-iam-role"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:root"}, "Action": "sts:AssumeRole"}]}, indent=2)
    rid = role_id()
    out["aws.persistence.iam-create-backdoor-role"] = [
        record(op, nt(30), "iam.amazonaws.com", "CreateRole",
               req={"roleName": rname, "assumeRolePolicyDocument": trust, "tags": [{"key": "StratusRedTeam", "value": "true"}]},
               resp={"role": {"path": "/", "roleName": rname, "roleId": rid, "arn": f"arn:aws:iam::{ACCOUNT}:role/{rname}",
                              "createDate": "Nov 25, 2026, 4:22:10 PM", "assumeRolePolicyDocument": trust.replace("\n", "").replace(" ", "")}},
               read_only=False, ip=ip, ua=ua),
        record(op, nt(1), "iam.amazonaws.com", "AttachRolePolicy", req={"roleName": rname, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
               read_only=False, ip=ip, ua=ua)]

    uname = "stratus-red-team-login-profile-user"
    out["aws.persistence.iam-create-user-login-profile"] = [
        record(op, nt(30), "iam.amazonaws.com", "CreateLoginProfile", req={"userName": uname, "passwordResetRequired": False},
               resp={"loginProfile": {"userName": uname, "createDate": "Nov 25, 2026, 4:23:01 PM", "passwordResetRequired": False}},
               read_only=False, ip=ip, ua=ua_stratus())]

    out["aws.privilege-escalation.iam-update-user-login-profile"] = [
        record(op, nt(30), "iam.amazonaws.com", "UpdateLoginProfile", req={"userName": "stratus-red-team-update-login-profile-user", "passwordResetRequired": False},
               read_only=False, ip=ip, ua=ua_stratus())]

    fn = "stratus-red-team-backdoor-f-func"
    out["aws.persistence.lambda-backdoor-function"] = [
        record(op, nt(30), "lambda.amazonaws.com", "AddPermission20150331v2",
               req={"functionName": fn, "statementId": "backdoor", "action": "lambda:InvokeFunction", "principal": "*"},
               resp={"statement": json.dumps({"Sid": "backdoor", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
                                              "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}"}, separators=(",", ":"))},
               read_only=False, ip=ip, ua=ua_stratus())]

    fn = "stratus-red-team-lambda-layer-func"
    layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:stratus-red-team-lambda-layer-ext:1"
    fr = lambda_fn_resp(fn, f"arn:aws:iam::{ACCOUNT}:role/stratus-red-team-lambda-layer-role", layers=[layer])
    fr["lastModified"] = ts(t).replace("Z", ".000+0000")
    out["aws.persistence.lambda-layer-extension"] = [
        record(op, nt(30), "lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2",
               req={"functionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn}", "layers": [layer]},
               resp=fr, read_only=False, ip=ip, ua=ua_stratus())]

    fn = "stratus-red-team-overwrite-lambda-func"
    fr = lambda_fn_resp(fn, f"arn:aws:iam::{ACCOUNT}:role/stratus-red-team-overwrite-lambda-role", code_size=311)
    fr["lastModified"] = ts(t).replace("Z", ".000+0000")
    out["aws.persistence.lambda-overwrite-code"] = [
        record(op, nt(30), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
               req={"functionName": fn, "publish": False, "dryRun": False}, resp=fr, read_only=False, ip=ip, ua=ua_stratus())]

    ua = ua_stratus()
    ta = uid()
    out["aws.persistence.rolesanywhere-create-trust-anchor"] = [
        record(op, nt(30), "rolesanywhere.amazonaws.com", "CreateTrustAnchor",
               req={"enabled": True, "name": "malicious-rolesanywhere-trust-anchor",
                    "source": {"sourceData": {"x509CertificateData": "-----BEGIN CERTIFICATE-----\nMIIC" + b32(60) + "\n-----END CERTIFICATE-----\n"}, "sourceType": "CERTIFICATE_BUNDLE"},
                    "tags": [{"key": "HIDDEN_DUE_TO_SECURITY_REASONS", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]},
               resp={"trustAnchor": {"createdAt": "2026-11-25T16:25:03.142Z", "enabled": True, "name": "malicious-rolesanywhere-trust-anchor",
                                     "trustAnchorArn": f"arn:aws:rolesanywhere:{REGION}:{ACCOUNT}:trust-anchor/{ta}", "trustAnchorId": ta}},
               read_only=False, ip=ip, ua=ua),
        record(op, nt(1), "rolesanywhere.amazonaws.com", "CreateProfile",
               req={"durationSeconds": 3600, "enabled": True, "name": "malicious-rolesanywhere-profile",
                    "roleArns": [f"arn:aws:iam::{ACCOUNT}:role/stratus-red-team-rolesanywhere-role"],
                    "tags": [{"key": "HIDDEN_DUE_TO_SECURITY_REASONS", "value": "HIDDEN_DUE_TO_SECURITY_REASONS"}]},
               resp={"profile": {"enabled": True, "name": "malicious-rolesanywhere-profile", "profileId": uid(), "durationSeconds": 3600}},
               read_only=False, ip=ip, ua=ua)]

    fu = User("stratus-red-team-federation-token-user")
    out["aws.persistence.sts-federation-token"] = [
        record(fu, nt(30), "sts.amazonaws.com", "GetFederationToken",
               req={"name": "stratus_red_team", "policy": "HIDDEN_DUE_TO_SECURITY_REASONS"},
               resp={"credentials": {"accessKeyId": temp_key(), "sessionToken": session_token(),
                                     "expiration": human_time(t + dt.timedelta(hours=12))},
                     "federatedUser": {"federatedUserId": f"{ACCOUNT}:stratus_red_team",
                                       "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/stratus_red_team"},
                     "packedPolicySize": 6},
               read_only=True, ip=ip_attacker(), ua=ua_stratus())]
    return out


# ----------------------------------------------------------------------------------------
# benign account


def benign_records():
    c = cast()
    recs = []
    start = T0
    span = 4 * 3600

    def at(sec):
        return start + dt.timedelta(seconds=sec)

    ci_ip = lambda: rng.choice(["198.51.100.", "203.0.113."]) + str(rng.randint(2, 120))
    office = ["192.0.2.44", "192.0.2.45", "192.0.2.61"]
    lambda_ip = lambda: "203.0.113." + str(rng.randint(130, 250))
    ecs_ip = lambda: "10.20." + str(rng.randint(1, 3)) + "." + str(rng.randint(10, 250))
    functions = [("orders-api", c["fn_orders"], "python"), ("thumbnailer", c["fn_thumbs"], "node"),
                 ("billing-sync", c["fn_billing"], "python"), ("reports-export", c["fn_reports"], "python")]
    buckets = {"orders-api": "acme-orders-archive-123456789012", "thumbnailer": "acme-media-uploads-123456789012",
               "billing-sync": "acme-billing-exports-123456789012", "reports-export": "acme-reports-123456789012"}
    secrets = {"orders-api": ["prod/orders/db", "prod/orders/stripe"], "billing-sync": ["prod/billing/netsuite"],
               "reports-export": ["prod/reports/warehouse"], "thumbnailer": []}
    params = {"orders-api": ["/prod/orders/feature-flags", "/prod/orders/db-host"], "thumbnailer": ["/prod/media/cdn-signing-key"],
              "billing-sync": ["/prod/billing/api-url"], "reports-export": ["/prod/reports/schedule"]}
    kms_key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{uid()}"
    s3_key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{uid()}"

    def ua_fn(kind, svc):
        return UA_BOTO_LAMBDA if kind == "python" else UA_NODE_LAMBDA.format(svc=svc)

    # --- application traffic: Lambda invocations, cold starts, data events -------------------
    sec = 0.0
    while sec < span:
        sec += rng.expovariate(1 / 14.0)
        fname, role, kind = rng.choices(functions, weights=[5, 3, 1, 1])[0]
        t = at(sec)
        invoker = {"orders-api": "apigateway.amazonaws.com", "thumbnailer": "s3.amazonaws.com",
                   "billing-sync": "events.amazonaws.com", "reports-export": "events.amazonaws.com"}[fname]
        src = {"apigateway.amazonaws.com": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:k7x2p9q4mb/prod/POST/orders",
               "s3.amazonaws.com": f"arn:aws:s3:::{buckets['thumbnailer']}",
               "events.amazonaws.com": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{fname}-schedule"}[invoker]
        recs.append(record(Service(invoker), t, "lambda.amazonaws.com", "Invoke",
                           req={"functionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}", "sourceArn": src},
                           additional={"functionVersion": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}:$LATEST"},
                           read_only=False, category="Data", version="1.09",
                           resources=[{"accountId": ACCOUNT, "type": "AWS::Lambda::Function",
                                       "ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}"}],
                           shared_event_id=uid() if invoker != "apigateway.amazonaws.com" else None))
        cold = rng.random() < 0.08
        ip = lambda_ip()
        if cold:
            ct = t + dt.timedelta(milliseconds=120)
            recs.append(record(Service("lambda.amazonaws.com"), ct, "sts.amazonaws.com", "AssumeRole",
                               req={"roleArn": role.role_arn, "roleSessionName": fname},
                               resp=creds_resp(role, ct, fname, 43200), read_only=True,
                               resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role.role_arn}],
                               shared_event_id=uid()))
            recs.append(record(Service("lambda.amazonaws.com"), ct, "kms.amazonaws.com", "Decrypt",
                               req={"encryptionContext": {"LambdaFunctionName": fname}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                               read_only=True, resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": kms_key}]))
            for sid in secrets[fname]:
                st = ct + dt.timedelta(milliseconds=400)
                recs.append(record(role, st, "secretsmanager.amazonaws.com", "GetSecretValue", req={"secretId": sid},
                                   read_only=True, ip=ip, ua=ua_fn(kind, "secrets-manager")))
                recs.append(record({**role.identity(), "invokedBy": "secretsmanager.amazonaws.com"}, st, "kms.amazonaws.com", "Decrypt",
                                   req={"encryptionContext": {"SecretARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{sid}-{b32(6)}",
                                                              "SecretVersionId": uid()}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                                   read_only=True, ip="secretsmanager.amazonaws.com", ua="secretsmanager.amazonaws.com",
                                   resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": kms_key}], tls_host=None))
            names = params[fname]
            pt = ct + dt.timedelta(milliseconds=600)
            if len(names) > 1:
                recs.append(record(role, pt, "ssm.amazonaws.com", "GetParameters", req={"names": names, "withDecryption": True},
                                   read_only=True, ip=ip, ua=ua_fn(kind, "ssm")))
            else:
                recs.append(record(role, pt, "ssm.amazonaws.com", "GetParameter", req={"name": names[0], "withDecryption": True},
                                   read_only=True, ip=ip, ua=ua_fn(kind, "ssm")))
            recs.append(record(Service("lambda.amazonaws.com"), pt, "logs.amazonaws.com", "CreateLogStream",
                               req={"logGroupName": f"/aws/lambda/{fname}", "logStreamName": f"2026/11/25/[$LATEST]{hexs(32)}"},
                               read_only=False))
        # data events of the invocation
        b = buckets[fname]
        n = {"orders-api": 1, "thumbnailer": 2, "billing-sync": 3, "reports-export": 2}[fname]
        for j in range(n):
            dtt = t + dt.timedelta(milliseconds=200 + 90 * j)
            if fname == "thumbnailer":
                key = f"uploads/2026/11/25/{uid()}.jpg" if j == 0 else f"thumbs/2026/11/25/{uid()}_320.webp"
                ev = "GetObject" if j == 0 else "PutObject"
            elif fname == "orders-api":
                key, ev = f"orders/2026/11/25/{uid()}.json", "PutObject"
            else:
                key, ev = f"exports/2026-11-25/{fname}-{hexs(8)}.csv.gz", rng.choice(["PutObject", "GetObject", "HeadObject"])
            recs.append(s3_data(role, dtt, ev, b, key, read_only=ev != "PutObject", ip=ip, ua=f"[{ua_fn(kind, 's3')}]",
                                extra_req={"x-id": ev} if ev != "HeadObject" else None,
                                resp={"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": s3_key,
                                      "x-amz-server-side-encryption-bucket-key-enabled": "true"} if ev == "PutObject" else None,
                                bytes_in=rng.randint(300, 400000) if ev == "PutObject" else 0,
                                bytes_out=rng.randint(300, 400000) if ev == "GetObject" else 0))
            if ev in ("PutObject", "GetObject") and rng.random() < 0.3:
                recs.append(record({**role.identity(), "invokedBy": "s3.amazonaws.com"}, dtt, "kms.amazonaws.com",
                                   "GenerateDataKey" if ev == "PutObject" else "Decrypt",
                                   req={"encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{b}"}, "keyId": s3_key, "keySpec": "AES_256"}
                                   if ev == "PutObject" else {"encryptionContext": {"aws:s3:arn": f"arn:aws:s3:::{b}"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
                                   read_only=True, ip="s3.amazonaws.com", ua="s3.amazonaws.com", tls_host=None,
                                   resources=[{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": s3_key}]))
        # reports-export cleans its own old exports now and then
        if fname == "reports-export" and rng.random() < 0.15:
            for j in range(rng.randint(1, 4)):
                recs.append(s3_data(role, t + dt.timedelta(seconds=1 + j * 0.2), "DeleteObject", b,
                                    f"exports/2026-10-{rng.randint(10, 28)}/reports-export-{hexs(8)}.csv.gz",
                                    extra_req={"x-id": "DeleteObject"}, read_only=False, ip=ip, ua=f"[{UA_BOTO_LAMBDA}]"))

    # --- ECS web service: S3 reads through a VPC endpoint, KMS, DynamoDB-free ---------------
    sec = 0.0
    while sec < span:
        sec += rng.expovariate(1 / 20.0)
        t = at(sec)
        key = f"catalog/{rng.choice(['images', 'json'])}/{hexs(12)}"
        recs.append(s3_data(c["ecs_web"], t, "GetObject", "acme-catalog-123456789012", key, read_only=True, ip=ecs_ip(),
                            ua=f"[{UA_GO_ECS.format(svc='s3')}]", extra_req={"x-id": "GetObject"}, bytes_out=rng.randint(900, 250000),
                            vpce="vpce-0" + "3f8a1b2c4d5e6f7a8"))

    # --- monitoring (Datadog role assumed from its account) and AWS Config: read-only --------
    dd_calls = [("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                ("ec2.amazonaws.com", "DescribeVolumes", {"volumeSet": {}, "filterSet": {}}),
                ("ec2.amazonaws.com", "DescribeSecurityGroups", {"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}),
                ("lambda.amazonaws.com", "ListFunctions20150331", {"maxItems": 50}),
                ("lambda.amazonaws.com", "ListTags20170331", {"resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders-api"}),
                ("rds.amazonaws.com", "DescribeDBInstances", {"maxRecords": 100}),
                ("elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers", {"pageSize": 400}),
                ("tag.amazonaws.com", "GetResources", {"resourcesPerPage": 100}),
                ("cloudwatch.amazonaws.com", "ListMetrics", {"namespace": "AWS/Lambda"}),
                ("logs.amazonaws.com", "DescribeLogGroups", {"limit": 50}),
                ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"}),
                ("sqs.amazonaws.com", "ListQueues", None),
                ("apigateway.amazonaws.com", "GetRestApis", {"limit": 500})]
    dd_ip = "192.0.2.130"
    sec = 0.0
    while sec < span:
        sec += 60 * 10 + rng.uniform(-20, 20)
        # the integration assumes its role from the vendor account, then polls
        t = at(sec)
        vendor = Role("DatadogAWSIntegrationRole-" + "poller", "worker-" + hexs(6), account=EXTERNAL)
        recs.append(record({"type": "AWSAccount", "principalId": f"{vendor.rid}:{vendor.session}", "accountId": EXTERNAL},
                           t, "sts.amazonaws.com", "AssumeRole",
                           req={"roleArn": c["datadog"].role_arn, "roleSessionName": "DatadogAWSIntegration", "externalId": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                           resp=creds_resp(c["datadog"], t, "DatadogAWSIntegration"), read_only=True, ip=dd_ip, ua=UA_DD,
                           resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": c["datadog"].role_arn}],
                           shared_event_id=uid()))
        for j, (src, ev, req) in enumerate(rng.sample(dd_calls, 9)):
            recs.append(record(c["datadog"], t + dt.timedelta(seconds=2 + j * 0.7), src, ev, req=req, read_only=True, ip=dd_ip, ua=UA_DD))
    cfg_calls = [("ec2.amazonaws.com", "DescribeSecurityGroups"), ("iam.amazonaws.com", "GetRole"), ("iam.amazonaws.com", "ListAttachedRolePolicies"),
                 ("lambda.amazonaws.com", "GetFunction20150331v2"), ("s3.amazonaws.com", "GetBucketPolicy"), ("s3.amazonaws.com", "GetBucketEncryption"),
                 ("kms.amazonaws.com", "DescribeKey"), ("ec2.amazonaws.com", "DescribeRouteTables"), ("ec2.amazonaws.com", "DescribeSubnets")]
    sec = 0.0
    while sec < span:
        sec += rng.expovariate(1 / 45.0)
        src, ev = rng.choice(cfg_calls)
        recs.append(record(c["config"], at(sec), src, ev, req={"roleName": "orders-api-role"} if src == "iam.amazonaws.com" else None,
                           read_only=True, ip="config.amazonaws.com", ua="config.amazonaws.com", tls_host=None))

    # --- people: IAM Identity Center sign-ins with MFA, console reads, a few CLI calls --------
    people = [(c["jane"], "jane.doe@example.com", 900), (c["raj"], "raj.patel@example.com", 3000), (c["mei"], "mei.lin@example.com", 6200)]
    for role, email, s0 in people:
        t = at(s0)
        store_uid = "906" + hexs(7) + "-" + uid()
        unknown = {"type": "Unknown", "principalId": store_uid, "arn": "", "accountId": ACCOUNT, "accessKeyId": "", "userName": email,
                   "onBehalfOf": {"userId": store_uid, "identityStoreArn": f"arn:aws:identitystore::{ACCOUNT}:identitystore/d-9067" + hexs(6)},
                   "credentialId": hexs(24)}
        recs.append(record(unknown, t, "signin.amazonaws.com", "CredentialChallenge", additional={"CredentialType": "PASSWORD"},
                           read_only=False, ip=rng.choice(office), ua=UA_BROWSER, event_type="AwsServiceEvent", tls_host=None,
                           resp=None, req=None, request_id=False))
        recs.append(record(unknown, t + dt.timedelta(seconds=6), "signin.amazonaws.com", "CredentialVerification",
                           additional={"CredentialType": "PASSWORD"}, resp=None, req=None, read_only=False, ip=rng.choice(office), ua=UA_BROWSER,
                           event_type="AwsServiceEvent", tls_host=None, request_id=False))
        recs.append(record(unknown, t + dt.timedelta(seconds=14), "signin.amazonaws.com", "CredentialVerification",
                           additional={"CredentialType": "TOTP"}, resp=None, req=None, read_only=False, ip=rng.choice(office), ua=UA_BROWSER,
                           event_type="AwsServiceEvent", tls_host=None, request_id=False))
        recs.append(record(unknown, t + dt.timedelta(seconds=15), "signin.amazonaws.com", "UserAuthentication",
                           additional={"AuthWorkflowID": uid(), "LoginTo": "https://d-9067" + hexs(6) + ".awsapps.com/start/",
                                       "CredentialType": "PASSWORD,TOTP"},
                           resp=None, req=None, read_only=False, ip=rng.choice(office), ua=UA_BROWSER, event_type="AwsServiceEvent",
                           tls_host=None, request_id=False))
        ct = t + dt.timedelta(seconds=30)
        recs.append(record(Service("sso.amazonaws.com"), ct, "sts.amazonaws.com", "AssumeRoleWithSAML",
                           req={"sAMLAssertionID": "_" + uid(), "roleSessionName": email, "principalTags": "HIDDEN_DUE_TO_SECURITY_REASONS",
                                "durationSeconds": 43200, "roleArn": role.role_arn,
                                "principalArn": f"arn:aws:iam::{ACCOUNT}:saml-provider/AWSSSO_{hexs(16)}_DO_NOT_DELETE"},
                           resp={**creds_resp(role, ct, email, 43200), "subjectType": "persistent", "issuer": f"https://portal.sso.{REGION}.amazonaws.com/saml/assertion/" + b32(40),
                                 "audience": "https://signin.aws.amazon.com/saml", "nameQualifier": b32(28), "sourceIdentity": None},
                           read_only=True, ip=rng.choice(office), ua=UA_BROWSER,
                           resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role.role_arn}]))
        recs.append(record(role, ct + dt.timedelta(seconds=2), "signin.amazonaws.com", "ConsoleLogin", req=None,
                           resp={"ConsoleLogin": "Success"},
                           additional={"MobileVersion": "No", "MFAUsed": "No"},
                           read_only=False, ip=rng.choice(office), ua=UA_BROWSER, event_type="AwsConsoleSignIn", tls_host=None, request_id=False))
        # console browsing for a while
        browse = [("lambda.amazonaws.com", "ListFunctions20150331", None), ("lambda.amazonaws.com", "GetFunction20150331v2", {"functionName": "orders-api"}),
                  ("logs.amazonaws.com", "FilterLogEvents", {"logGroupName": "/aws/lambda/orders-api", "interleaved": True}),
                  ("cloudwatch.amazonaws.com", "GetMetricData", None), ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
                  ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.amazonaws.com"}), ("cloudformation.amazonaws.com", "DescribeStacks", None),
                  ("cloudformation.amazonaws.com", "DescribeStackEvents", {"stackName": "orders-api"}),
                  ("iam.amazonaws.com", "ListRoles", None), ("secretsmanager.amazonaws.com", "ListSecrets", None),
                  ("ssm.amazonaws.com", "DescribeParameters", {"maxResults": 50}), ("health.amazonaws.com", "DescribeEventAggregates", None),
                  ("ce.amazonaws.com", "GetCostAndUsage", None), ("sqs.amazonaws.com", "ListQueues", None)]
        bt = ct + dt.timedelta(seconds=10)
        for _ in range(rng.randint(45, 70)):
            bt += dt.timedelta(seconds=rng.expovariate(1 / 25.0))
            src, ev, req = rng.choice(browse)
            recs.append(record(role, bt, src, ev, req=req, read_only=True, ip=rng.choice(office), ua=UA_CONSOLE, console=True))
        # jane opens one Session Manager session and looks at one instance's user data
        if email.startswith("jane"):
            iid = instance_id()
            sid = email + "-" + hexs(17)
            recs.append(record(role, bt + dt.timedelta(seconds=30), "ssm.amazonaws.com", "StartSession", req={"target": iid},
                               resp={"sessionId": sid, "tokenValue": "Value hidden due to security reasons.",
                                     "streamUrl": f"wss://ssmmessages.{REGION}.amazonaws.com/v1/data-channel/{sid}?role=publish_subscribe&cell-number=" + b32(40)},
                               read_only=False, ip=rng.choice(office), ua=UA_CONSOLE, console=True))
            recs.append(record(role, bt + dt.timedelta(seconds=900), "ssm.amazonaws.com", "TerminateSession", req={"sessionId": sid},
                               resp={"sessionId": sid}, read_only=False, ip=rng.choice(office), ua=UA_CONSOLE, console=True))
            recs.append(record(role, bt + dt.timedelta(seconds=960), "ec2.amazonaws.com", "DescribeInstanceAttribute",
                               req={"instanceId": iid, "attribute": "userData"}, read_only=True, ip=rng.choice(office), ua=UA_CONSOLE, console=True))
        # raj uses the CLI: GetCallerIdentity, tails logs, reads one secret
        if email.startswith("raj"):
            cli_role = Role(role.name, email, path=role.path)
            ut = bt + dt.timedelta(seconds=60)
            for cmd, src, ev, req in [("sts.get-caller-identity", "sts.amazonaws.com", "GetCallerIdentity", None),
                                      ("logs.tail", "logs.amazonaws.com", "FilterLogEvents", {"logGroupName": "/aws/lambda/billing-sync"}),
                                      ("logs.tail", "logs.amazonaws.com", "FilterLogEvents", {"logGroupName": "/aws/lambda/billing-sync"}),
                                      ("secretsmanager.get-secret-value", "secretsmanager.amazonaws.com", "GetSecretValue", {"secretId": "dev/billing/sandbox"}),
                                      ("ec2-instance-connect.send-ssh-public-key", "ec2-instance-connect.amazonaws.com", "SendSSHPublicKey",
                                       {"instanceId": instance_id(), "instanceOSUser": "ec2-user", "sSHPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + b32(43) + " raj@laptop"})]:
                ut += dt.timedelta(seconds=rng.randint(5, 80))
                recs.append(record(cli_role, ut, src, ev, req=req, read_only=ev != "SendSSHPublicKey", ip=rng.choice(office),
                                   ua=UA_CLI_MAC.format(cmd=cmd),
                                   resp={"requestId": uid(), "success": True} if ev == "SendSSHPublicKey" else None))

    # a mistyped IAM user sign-in (CloudTrail hides the unknown user name)
    recs.append(record({"type": "IAMUser", "principalId": "", "accountId": ACCOUNT, "accessKeyId": "", "userName": "HIDDEN_DUE_TO_SECURITY_REASONS"},
                       at(7400), "signin.amazonaws.com", "ConsoleLogin", req=None, resp={"ConsoleLogin": "Failure"},
                       additional={"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": "No"},
                       error=None, read_only=False, ip=office[0], ua=UA_BROWSER, event_type="AwsConsoleSignIn", tls_host=None,
                       request_id=False))
    recs[-1]["errorMessage"] = "No username found in supplied account"

    # --- a misconfigured app: AccessDenied now and then -------------------------------------
    for k in range(6):
        t = at(1800 + k * 1700 + rng.randint(0, 300))
        recs.append(s3_data(c["fn_reports"], t, "GetObject", "acme-finance-ledger-123456789012", f"ledger/2026/11/{hexs(6)}.parquet",
                            read_only=True, ip=lambda_ip(), ua=f"[{UA_BOTO_LAMBDA}]", extra_req={"x-id": "GetObject"},
                            error=("AccessDenied", "Access Denied")))

    # --- SSM maintenance window patching (service-invoked SendCommand) ----------------------
    t = at(5400)
    mw_ids = [instance_id() for _ in range(4)]
    recs.append(record(c["mw"], t, "ssm.amazonaws.com", "SendCommand",
                       req={"instanceIds": mw_ids, "documentName": "AWS-RunPatchBaseline", "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS",
                            "maxConcurrency": "25%", "maxErrors": "1", "interactive": False},
                       resp={"command": {"commandId": uid(), "documentName": "AWS-RunPatchBaseline", "instanceIds": mw_ids, "status": "Pending",
                                         "parameters": "HIDDEN_DUE_TO_SECURITY_REASONS", "targetCount": 4}},
                       read_only=False, ip="ssm.amazonaws.com", ua="ssm.amazonaws.com", tls_host=None))

    # --- Terraform applies from GitHub Actions ----------------------------------------------
    def gha_login(t, role, repo):
        sub = f"repo:acme-corp/{repo}:ref:refs/heads/main"
        recs.append(record({"type": "WebIdentityUser", "principalId": f"{GH_OIDC}:sts.amazonaws.com:{sub}", "userName": sub,
                            "identityProvider": GH_OIDC},
                           t, "sts.amazonaws.com", "AssumeRoleWithWebIdentity",
                           req={"roleArn": role.role_arn, "roleSessionName": "GitHubActions", "durationSeconds": 3600},
                           resp={**creds_resp(role, t, "GitHubActions"), "subjectFromWebIdentityToken": sub,
                                 "provider": GH_OIDC, "audience": "sts.amazonaws.com"},
                           additional={"identityProviderConnectionVerificationMethod": "IAMTrustStore"},
                           read_only=True, ip=ci_ip(), ua="aws-sdk-js/2.1692.0 promise",
                           resources=[{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": role.role_arn}]))

    def tf_apply(t0, tf_role, writes, n_refresh):
        ip = ci_ip()
        gha_login(t0, tf_role, "infrastructure")
        t = t0 + dt.timedelta(seconds=20)
        recs.append(record(tf_role, t, "sts.amazonaws.com", "GetCallerIdentity", read_only=True, ip=ip, ua=ua_tf("sts")))
        refresh = [("ec2.amazonaws.com", "DescribeVpcs", "ec2", None), ("ec2.amazonaws.com", "DescribeSubnets", "ec2", None),
                   ("ec2.amazonaws.com", "DescribeSecurityGroups", "ec2", None), ("ec2.amazonaws.com", "DescribeSecurityGroupRules", "ec2", None),
                   ("ec2.amazonaws.com", "DescribeRouteTables", "ec2", None), ("ec2.amazonaws.com", "DescribeInternetGateways", "ec2", None),
                   ("ec2.amazonaws.com", "DescribeNatGateways", "ec2", None), ("ec2.amazonaws.com", "DescribeInstances", "ec2", None),
                   ("iam.amazonaws.com", "GetRole", "iam", {"roleName": "orders-api-role"}),
                   ("iam.amazonaws.com", "ListRolePolicies", "iam", {"roleName": "orders-api-role"}),
                   ("iam.amazonaws.com", "ListAttachedRolePolicies", "iam", {"roleName": "orders-api-role"}),
                   ("iam.amazonaws.com", "GetPolicy", "iam", None), ("iam.amazonaws.com", "GetPolicyVersion", "iam", None),
                   ("s3.amazonaws.com", "GetBucketPolicy", "s3", None), ("s3.amazonaws.com", "GetBucketVersioning", "s3", None),
                   ("s3.amazonaws.com", "GetBucketEncryption", "s3", None), ("s3.amazonaws.com", "GetBucketLifecycle", "s3", None),
                   ("s3.amazonaws.com", "GetBucketPublicAccessBlock", "s3", None), ("kms.amazonaws.com", "DescribeKey", "kms", None),
                   ("kms.amazonaws.com", "GetKeyPolicy", "kms", None), ("kms.amazonaws.com", "GetKeyRotationStatus", "kms", None),
                   ("logs.amazonaws.com", "DescribeLogGroups", "cloudwatchlogs", None), ("logs.amazonaws.com", "ListTagsForResource", "cloudwatchlogs", None),
                   ("logs.amazonaws.com", "DescribeSubscriptionFilters", "cloudwatchlogs", None),
                   ("lambda.amazonaws.com", "GetFunction20150331v2", "lambda", {"functionName": "orders-api"}),
                   ("lambda.amazonaws.com", "GetPolicy20150331v2", "lambda", {"functionName": "orders-api"}),
                   ("lambda.amazonaws.com", "GetFunctionCodeSigningConfig", "lambda", {"functionName": "orders-api"}),
                   ("lambda.amazonaws.com", "ListVersionsByFunction20150331", "lambda", {"functionName": "orders-api"}),
                   ("secretsmanager.amazonaws.com", "DescribeSecret", "secretsmanager", {"secretId": "prod/orders/db"}),
                   ("secretsmanager.amazonaws.com", "GetResourcePolicy", "secretsmanager", {"secretId": "prod/orders/db"}),
                   ("dynamodb.amazonaws.com", "DescribeTable", "dynamodb", {"tableName": "terraform-locks"}),
                   ("sqs.amazonaws.com", "GetQueueAttributes", "sqs", None)]
        # state lock and state file
        recs.append(record(tf_role, t + dt.timedelta(seconds=1), "dynamodb.amazonaws.com", "PutItem",
                           req={"tableName": "terraform-locks", "key": {"LockID": "acme-tfstate-123456789012/infra/prod.tfstate"}},
                           read_only=False, ip=ip, ua=ua_tf("dynamodb"), category="Data"))
        recs.append(s3_data(tf_role, t + dt.timedelta(seconds=2), "GetObject", "acme-tfstate-123456789012", "infra/prod.tfstate",
                            read_only=True, ip=ip, ua=ua_tf("s3"), extra_req={"x-id": "GetObject"}, bytes_out=418233))
        for _ in range(n_refresh):
            t += dt.timedelta(milliseconds=rng.randint(40, 600))
            src, ev, svc, req = rng.choice(refresh)
            if src == "s3.amazonaws.com":
                recs.append(s3_mgmt(tf_role, t, ev, rng.choice(list(buckets.values())), {ev.replace("GetBucket", "").lower(): ""},
                                    read_only=True, ip=ip, ua=ua_tf("s3")))
            else:
                recs.append(record(tf_role, t, src, ev, req=req, read_only=True, ip=ip, ua=ua_tf(svc)))
        # aws_instance refresh reads user data of each instance
        for iid in [instance_id() for _ in range(6)]:
            t += dt.timedelta(milliseconds=rng.randint(60, 300))
            recs.append(record(tf_role, t, "ec2.amazonaws.com", "DescribeInstanceAttribute", req={"instanceId": iid, "attribute": "userData"},
                               read_only=True, ip=ip, ua=ua_tf("ec2")))
        # aws_ssm_parameter refresh
        for pname in ["/prod/orders/db-host", "/prod/media/cdn-signing-key", "/prod/billing/api-url"]:
            t += dt.timedelta(milliseconds=rng.randint(60, 300))
            recs.append(record(tf_role, t, "ssm.amazonaws.com", "GetParameter", req={"name": pname, "withDecryption": True},
                               read_only=True, ip=ip, ua=ua_tf("ssm")))
            recs.append(record(tf_role, t + dt.timedelta(milliseconds=80), "ssm.amazonaws.com", "DescribeParameters",
                               req={"parameterFilters": [{"key": "Name", "option": "Equals", "values": [pname]}]},
                               read_only=True, ip=ip, ua=ua_tf("ssm")))
        t += dt.timedelta(seconds=25)
        for src, ev, svc, req, resp in writes:
            t += dt.timedelta(milliseconds=rng.randint(300, 2500))
            if src == "s3.amazonaws.com":
                recs.append(s3_mgmt(tf_role, t, ev, req.pop("bucketName"), req, read_only=False, ip=ip, ua=ua_tf("s3")))
            else:
                recs.append(record(tf_role, t, src, ev, req=req, resp=resp, read_only=False, ip=ip, ua=ua_tf(svc)))
        recs.append(s3_data(tf_role, t + dt.timedelta(seconds=3), "PutObject", "acme-tfstate-123456789012", "infra/prod.tfstate",
                            read_only=False, ip=ip, ua=ua_tf("s3"), extra_req={"x-id": "PutObject"}, bytes_in=419010))
        recs.append(record(tf_role, t + dt.timedelta(seconds=4), "dynamodb.amazonaws.com", "DeleteItem",
                           req={"tableName": "terraform-locks", "key": {"LockID": "acme-tfstate-123456789012/infra/prod.tfstate"}},
                           read_only=False, ip=ip, ua=ua_tf("dynamodb"), category="Data"))

    vpc = "vpc-0" + hexs(16)
    sg_alb, sg_app, sg_db = ("sg-0" + hexs(16) for _ in range(3))
    trust_lambda = policy_json([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}])
    trust_sec = policy_json([{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ORG_ACCOUNTS[0]}:root"}, "Action": "sts:AssumeRole",
                              "Condition": {"StringEquals": {"sts:ExternalId": "acme-security-audit"}}}])
    trust_gha = policy_json([{"Effect": "Allow", "Principal": {"Federated": GH_OIDC}, "Action": "sts:AssumeRoleWithWebIdentity",
                              "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                                            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme-corp/*:ref:refs/heads/main"}}}])
    bucket_new = "acme-data-lake-raw-123456789012"
    bpol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket_new}", f"arn:aws:s3:::{bucket_new}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "AllowAnalyticsRole", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/analytics-etl"},
         "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket_new}", f"arn:aws:s3:::{bucket_new}/*"]}]}
    fn_new = "invoice-pdf"
    layer_ext = f"arn:aws:lambda:{REGION}:580247275435:layer:LambdaInsightsExtension-Arm64:20"
    key_id = uid()
    infra_writes = [
        ("ec2.amazonaws.com", "CreateVpc", "ec2", {"cidrBlock": "10.40.0.0/16", "instanceTenancy": "default", "amazonProvidedIpv6CidrBlock": False},
         {"requestId": uid(), "vpc": {"vpcId": vpc, "state": "pending", "cidrBlock": "10.40.0.0/16", "ownerId": ACCOUNT}}),
        ("ec2.amazonaws.com", "ModifyVpcAttribute", "ec2", {"vpcId": vpc, "enableDnsHostnames": {"value": True}}, {"requestId": uid(), "_return": True}),
        ("ec2.amazonaws.com", "CreateSubnet", "ec2", {"vpcId": vpc, "cidrBlock": "10.40.1.0/24", "availabilityZone": "us-east-1a"}, None),
        ("ec2.amazonaws.com", "CreateSubnet", "ec2", {"vpcId": vpc, "cidrBlock": "10.40.2.0/24", "availabilityZone": "us-east-1b"}, None),
        ("ec2.amazonaws.com", "CreateInternetGateway", "ec2", {}, None),
        ("ec2.amazonaws.com", "AttachInternetGateway", "ec2", {"internetGatewayId": "igw-0" + hexs(16), "vpcId": vpc}, {"requestId": uid(), "_return": True}),
        ("ec2.amazonaws.com", "CreateRouteTable", "ec2", {"vpcId": vpc}, None),
        ("ec2.amazonaws.com", "CreateRoute", "ec2", {"routeTableId": "rtb-0" + hexs(16), "destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-0" + hexs(16)}, {"requestId": uid(), "_return": True}),
        ("ec2.amazonaws.com", "AssociateRouteTable", "ec2", {"routeTableId": "rtb-0" + hexs(16), "subnetId": "subnet-0" + hexs(16)}, None),
        ("ec2.amazonaws.com", "CreateSecurityGroup", "ec2", {"groupName": "alb-public", "groupDescription": "ALB", "vpcId": vpc}, {"requestId": uid(), "_return": True, "groupId": sg_alb}),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "ec2",
         {"groupId": sg_alb, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443, "groups": {},
                                                         "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0", "description": "HTTPS"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}}, None),
        ("ec2.amazonaws.com", "CreateSecurityGroup", "ec2", {"groupName": "app", "groupDescription": "app tasks", "vpcId": vpc}, {"requestId": uid(), "_return": True, "groupId": sg_app}),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "ec2",
         {"groupId": sg_app, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "groups": {"items": [{"groupId": sg_alb}]},
                                                         "ipRanges": {}, "ipv6Ranges": {}, "prefixListIds": {}}]}}, None),
        ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "ec2",
         {"groupId": sg_db, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "groups": {},
                                                        "ipRanges": {"items": [{"cidrIp": "10.40.0.0/16"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}}, None),
        ("ec2.amazonaws.com", "CreateFlowLogs", "ec2", {"CreateFlowLogsRequest": {"ResourceId": {"tag": 1, "content": vpc}, "TrafficType": "ALL",
                                                                                 "LogDestinationType": "cloud-watch-logs", "LogGroupName": "/vpc/prod/flow"}}, None),
    ]
    iam_writes = [
        ("iam.amazonaws.com", "CreateRole", "iam", {"roleName": "invoice-pdf-role", "assumeRolePolicyDocument": trust_lambda, "maxSessionDuration": 3600}, None),
        ("iam.amazonaws.com", "PutRolePolicy", "iam", {"roleName": "invoice-pdf-role", "policyName": "s3-invoices",
                                                       "policyDocument": policy_json([{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::acme-invoices-123456789012/*"}])}, None),
        ("iam.amazonaws.com", "AttachRolePolicy", "iam", {"roleName": "invoice-pdf-role", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}, None),
        ("iam.amazonaws.com", "UpdateAssumeRolePolicy", "iam", {"roleName": "security-audit", "policyDocument": trust_sec}, None),
        ("iam.amazonaws.com", "UpdateAssumeRolePolicy", "iam", {"roleName": "github-actions-sam-deploy", "policyDocument": trust_gha}, None),
        ("iam.amazonaws.com", "CreatePolicyVersion", "iam", {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/orders-api-data",
                                                             "policyDocument": policy_json([{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": "*"}]),
                                                             "setAsDefault": True}, None),
        ("kms.amazonaws.com", "CreateKey", "kms", {"description": "data lake", "keyUsage": "ENCRYPT_DECRYPT", "keySpec": "SYMMETRIC_DEFAULT",
                                                   "policy": "HIDDEN_DUE_TO_SECURITY_REASONS", "bypassPolicyLockoutSafetyCheck": False, "multiRegion": False},
         {"keyMetadata": {"aWSAccountId": ACCOUNT, "keyId": key_id, "arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}", "keyState": "Enabled"}}),
        ("kms.amazonaws.com", "CreateAlias", "kms", {"aliasName": "alias/data-lake", "targetKeyId": key_id}, None),
        ("kms.amazonaws.com", "EnableKeyRotation", "kms", {"keyId": key_id}, None),
        ("s3.amazonaws.com", "CreateBucket", "s3", {"bucketName": bucket_new, "CreateBucketConfiguration": None}, None),
        ("s3.amazonaws.com", "PutBucketPublicAccessBlock", "s3", {"bucketName": bucket_new, "publicAccessBlock": "",
                                                                 "PublicAccessBlockConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "RestrictPublicBuckets": True,
                                                                                                    "BlockPublicPolicy": True, "BlockPublicAcls": True, "IgnorePublicAcls": True}}, None),
        ("s3.amazonaws.com", "PutBucketEncryption", "s3", {"bucketName": bucket_new, "encryption": "",
                                                          "ServerSideEncryptionConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                                                                                                "Rule": {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}, "BucketKeyEnabled": True}}}, None),
        ("s3.amazonaws.com", "PutBucketVersioning", "s3", {"bucketName": bucket_new, "versioning": "", "VersioningConfiguration": {"Status": "Enabled", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}}, None),
        ("s3.amazonaws.com", "PutBucketPolicy", "s3", {"bucketName": bucket_new, "bucketPolicy": bpol, "policy": ""}, None),
        ("s3.amazonaws.com", "PutBucketLifecycle", "s3", {"bucketName": bucket_new, "lifecycle": "", "LifecycleConfiguration": {"xmlns": "http://s3.amazonaws.com/doc/2006-03-01/", "Rule": [
            {"ID": "raw-to-ia", "Status": "Enabled", "Filter": {"Prefix": "raw/"}, "Transition": {"Days": 30, "StorageClass": "STANDARD_IA"}},
            {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 14}},
            {"ID": "noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""}, "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}]}}, None),
        ("logs.amazonaws.com", "CreateLogGroup", "cloudwatchlogs", {"logGroupName": f"/aws/lambda/{fn_new}"}, None),
        ("logs.amazonaws.com", "PutRetentionPolicy", "cloudwatchlogs", {"logGroupName": f"/aws/lambda/{fn_new}", "retentionInDays": 30}, None),
        ("logs.amazonaws.com", "PutSubscriptionFilter", "cloudwatchlogs", {"logGroupName": f"/aws/lambda/{fn_new}", "filterName": "logwarden",
                                                                          "filterPattern": "", "destinationArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:logwarden"}, None),
        ("lambda.amazonaws.com", "CreateFunction20150331", "lambda",
         {"functionName": fn_new, "runtime": "python3.12", "role": f"arn:aws:iam::{ACCOUNT}:role/invoice-pdf-role", "handler": "app.handler",
          "code": {}, "timeout": 30, "memorySize": 512, "publish": False, "layers": [layer_ext], "architectures": ["arm64"],
          "environment": {}, "tracingConfig": {"mode": "PassThrough"}},
         None),
        ("lambda.amazonaws.com", "AddPermission20150331v2", "lambda",
         {"functionName": fn_new, "statementId": "AllowExecutionFromEventBridge", "action": "lambda:InvokeFunction", "principal": "events.amazonaws.com",
          "sourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/invoice-pdf-nightly"},
         {"statement": json.dumps({"Sid": "AllowExecutionFromEventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                   "Action": "lambda:InvokeFunction", "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn_new}",
                                   "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/invoice-pdf-nightly"}}}, separators=(",", ":"))}),
        ("lambda.amazonaws.com", "AddPermission20150331v2", "lambda",
         {"functionName": "logwarden", "statementId": "AllowCloudWatchLogs", "action": "lambda:InvokeFunction", "principal": "logs.amazonaws.com",
          "sourceArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{fn_new}:*", "sourceAccount": ACCOUNT}, None),
        ("ec2.amazonaws.com", "ModifySnapshotAttribute", "ec2",
         {"snapshotId": "snap-0" + hexs(16), "createVolumePermission": {"add": {"items": [{"userId": ORG_ACCOUNTS[1]}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"},
         {"requestId": uid(), "_return": True}),
    ]
    code_writes = [
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "lambda", {"functionName": "orders-api", "publish": False, "dryRun": False,
                                                                            "s3Bucket": "acme-artifacts-123456789012", "s3Key": "orders-api/" + hexs(40) + ".zip"}, None),
        ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", "lambda",
         {"functionName": "orders-api", "environment": {}, "memorySize": 1024, "layers": [layer_ext]}, None),
        ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "lambda", {"functionName": "billing-sync", "publish": True, "dryRun": False,
                                                                            "s3Bucket": "acme-artifacts-123456789012", "s3Key": "billing-sync/" + hexs(40) + ".zip"}, None),
        ("lambda.amazonaws.com", "PublishVersion20150331", "lambda", {"functionName": "billing-sync"}, None),
        ("lambda.amazonaws.com", "UpdateAlias20150331", "lambda", {"functionName": "billing-sync", "name": "live", "functionVersion": "42"}, None),
    ]
    tf_apply(at(2400), c["tf"], infra_writes + iam_writes, 140)
    tf_apply(at(9300), c["tf"], code_writes, 90)
    tf_apply(at(12600), c["tf"], [], 110)  # a plan-only run with no changes

    # --- SAM / CloudFormation deploys ---------------------------------------------------------
    def sam_deploy(t0, stack, fname, new_role):
        ip = ci_ip()
        gha_login(t0, c["sam"], stack)
        t = t0 + dt.timedelta(seconds=15)
        sam = c["sam"]
        stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/{uid()}"
        recs.append(s3_data(sam, t, "PutObject", "aws-sam-cli-managed-default-samclisourcebucket-" + b32(12).lower(), f"{stack}/{hexs(32)}",
                            read_only=False, ip=ip, ua=f"[{UA_SAM_CLI}]", extra_req={"x-id": "PutObject"}, bytes_in=rng.randint(400000, 5000000)))
        for ev in ["DescribeStacks", "GetTemplateSummary", "CreateChangeSet", "DescribeChangeSet", "DescribeChangeSet", "ExecuteChangeSet"]:
            t += dt.timedelta(seconds=rng.uniform(0.5, 4))
            recs.append(record(sam, t, "cloudformation.amazonaws.com", ev,
                               req={"stackName": stack_id if ev != "CreateChangeSet" else stack, "changeSetName": "samcli-deploy" + str(rng.randint(10**9, 10**10))}
                               if ev != "DescribeStacks" else {"stackName": stack},
                               read_only=ev.startswith(("Describe", "Get")), ip=ip, ua=UA_SAM_CLI))
        cfn = c["cfn"]
        ct = t + dt.timedelta(seconds=3)
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{stack}-{fname}Role-{b32(12)}"
        steps = []
        if new_role:
            steps += [("iam.amazonaws.com", "CreateRole", {"roleName": role_arn.split("/")[-1], "assumeRolePolicyDocument": trust_lambda,
                                                          "tags": [{"key": "aws:cloudformation:stack-name", "value": stack}]}),
                      ("iam.amazonaws.com", "AttachRolePolicy", {"roleName": role_arn.split("/")[-1], "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}),
                      ("iam.amazonaws.com", "PutRolePolicy", {"roleName": role_arn.split("/")[-1], "policyName": "SQSSendMessagePolicy",
                                                             "policyDocument": policy_json([{"Action": ["sqs:SendMessage*"], "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{stack}-queue", "Effect": "Allow"}])}),
                      ("sqs.amazonaws.com", "CreateQueue", {"queueName": f"{stack}-queue", "attributes": {"VisibilityTimeout": "180"}}),
                      ("lambda.amazonaws.com", "CreateFunction20150331", {"functionName": f"{stack}-{fname}-{b32(12)}", "runtime": "python3.12", "role": role_arn,
                                                                         "handler": "app.handler", "code": {}, "timeout": 30, "memorySize": 256, "publish": False}),
                      ("lambda.amazonaws.com", "AddPermission20150331v2", {"functionName": f"{stack}-{fname}", "statementId": f"{stack}-ApiPermission-{b32(12)}",
                                                                           "action": "lambda:InvokeFunction", "principal": "apigateway.amazonaws.com",
                                                                           "sourceArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:k7x2p9q4mb/*/*/*"}),
                      ("logs.amazonaws.com", "CreateLogGroup", {"logGroupName": f"/aws/lambda/{stack}-{fname}"}),
                      ("logs.amazonaws.com", "PutSubscriptionFilter", {"logGroupName": f"/aws/lambda/{stack}-{fname}", "filterName": "logwarden", "filterPattern": "",
                                                                      "destinationArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:logwarden"}),
                      ("apigateway.amazonaws.com", "CreateDeployment", {"restApiId": "k7x2p9q4mb", "createDeploymentInput": {"stageName": "prod"}})]
        else:
            steps += [("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", {"functionName": f"{stack}-{fname}", "s3Bucket": "aws-sam-cli-managed-default-samclisourcebucket",
                                                                                "s3Key": f"{stack}/{hexs(32)}", "publish": False, "dryRun": False}),
                      ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", {"functionName": f"{stack}-{fname}", "timeout": 30, "memorySize": 256,
                                                                                         "environment": {}, "runtime": "python3.12", "handler": "app.handler"}),
                      ("lambda.amazonaws.com", "PublishVersion20150331", {"functionName": f"{stack}-{fname}"}),
                      ("lambda.amazonaws.com", "UpdateAlias20150331", {"functionName": f"{stack}-{fname}", "name": "live", "functionVersion": str(rng.randint(10, 80))})]
        for src, ev, req in steps:
            ct += dt.timedelta(seconds=rng.uniform(1, 8))
            recs.append(record(cfn, ct, src, ev, req=req, read_only=False, ip="cloudformation.amazonaws.com", ua="cloudformation.amazonaws.com", tls_host=None))
            if ev.startswith("CreateFunction") or ev.startswith("UpdateFunctionConfiguration"):
                ct += dt.timedelta(seconds=1)
                recs.append(record(cfn, ct, "lambda.amazonaws.com", "GetFunction20150331v2", req={"functionName": req["functionName"]},
                                   read_only=True, ip="cloudformation.amazonaws.com", ua="cloudformation.amazonaws.com", tls_host=None))
        for _ in range(rng.randint(8, 14)):
            t += dt.timedelta(seconds=5)
            recs.append(record(sam, t, "cloudformation.amazonaws.com", "DescribeStackEvents", req={"stackName": stack_id},
                               read_only=True, ip=ip, ua=UA_SAM_CLI))

    sam_deploy(at(4200), "notifications", "SendEmailFunction", True)
    sam_deploy(at(11000), "notifications", "SendEmailFunction", False)

    # --- CI read checks: GitHub Actions smoke test -----------------------------------------
    for s in (5000, 10200, 13500):
        t = at(s)
        gha_login(t, c["sam"], "notifications")
        for ev, src in [("GetCallerIdentity", "sts.amazonaws.com"), ("DescribeStacks", "cloudformation.amazonaws.com"),
                        ("GetFunction20150331v2", "lambda.amazonaws.com")]:
            t += dt.timedelta(seconds=2)
            recs.append(record(c["sam"], t, src, ev, read_only=True, ip=ci_ip(), ua=UA_SAM.replace("cloudformation.deploy", "smoke")))

    # --- EC2 batch worker instance: its own role, normal calls ----------------------------------
    sec = 0.0
    while sec < span:
        sec += rng.expovariate(1 / 120.0)
        t = at(sec)
        ev, src, req = rng.choice([("ReceiveMessage", "sqs.amazonaws.com", None), ("PutMetricData", "monitoring.amazonaws.com", None),
                                   ("DescribeTags", "ec2.amazonaws.com", {"filterSet": {"items": [{"name": "resource-id"}]}}),
                                   ("UpdateInstanceInformation", "ssm.amazonaws.com", {"instanceId": c["ec2_batch"].session, "agentVersion": "3.3.1142.0"})])
        if src == "sqs.amazonaws.com":
            continue  # SQS data events are not logged here
        recs.append(record(c["ec2_batch"], t, src, ev, req=req, read_only=ev != "UpdateInstanceInformation" and ev != "PutMetricData",
                           ip="10.20.9." + str(rng.randint(10, 200)),
                           ua="aws-sdk-go/1.55.5 (go1.22.9; linux; amd64) amazon-ssm-agent/3.3.1142.0" if src == "ssm.amazonaws.com"
                           else "aws-sdk-go-v2/1.32.4 ua/2.1 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 exec-env/EC2 api/" + src.split(".")[0] + "#1.40.0"))

    recs.sort(key=lambda r: r["eventTime"])
    return recs


# ----------------------------------------------------------------------------------------


def dump(path, recs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "cloudtrail"))
    a = ap.parse_args()
    reseed(SEED)
    st = stratus_records()
    for tid, recs in sorted(st.items()):
        dump(os.path.join(a.out, "stratus", f"{tid}.jsonl"), recs)
    reseed(SEED + 1)
    ben = benign_records()
    dump(os.path.join(a.out, "benign.jsonl"), ben)
    print(f"{len(st)} Stratus technique files, {sum(len(v) for v in st.values())} records; benign.jsonl: {len(ben)} records")


if __name__ == "__main__":
    main()

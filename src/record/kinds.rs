//! The record kinds' list and names.

use super::{PlatformLine, RecordKind, SourceKind};

impl RecordKind {
    /// Every kind.
    pub const ALL: [RecordKind; 18] = [
        RecordKind::LambdaPlatform(PlatformLine::Start),
        RecordKind::LambdaPlatform(PlatformLine::End),
        RecordKind::LambdaPlatform(PlatformLine::Report),
        RecordKind::LambdaPlatform(PlatformLine::Timeout),
        RecordKind::LambdaPlatform(PlatformLine::InitStart),
        RecordKind::LambdaPlatformJson,
        RecordKind::NodeRuntime,
        RecordKind::PythonRuntime,
        RecordKind::LambdaAppJson,
        RecordKind::Powertools,
        RecordKind::SecurityEvent,
        RecordKind::CloudTrail,
        RecordKind::ApiGatewayJson,
        RecordKind::ApiGatewayClf,
        RecordKind::Waf,
        RecordKind::VpcFlow,
        RecordKind::Json,
        RecordKind::PlainText,
    ];

    /// Whether a record of this kind can come from a source of kind `source`: a CloudTrail
    /// record only from a CloudTrail source, a WAF record only from a WAF log group.
    pub fn comes_from(self, source: SourceKind) -> bool {
        match self {
            RecordKind::CloudTrail => source == SourceKind::CloudTrail,
            RecordKind::Waf => source == SourceKind::Waf,
            _ => true,
        }
    }

    /// A short stable name, e.g. `"cloudtrail"`, `"lambda-platform"`.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::LambdaPlatform(_) => "lambda-platform",
            RecordKind::LambdaPlatformJson => "lambda-platform-json",
            RecordKind::NodeRuntime => "node-runtime",
            RecordKind::PythonRuntime => "python-runtime",
            RecordKind::LambdaAppJson => "lambda-app-json",
            RecordKind::Powertools => "powertools",
            RecordKind::SecurityEvent => "security-event",
            RecordKind::CloudTrail => "cloudtrail",
            RecordKind::ApiGatewayJson => "apigateway-json",
            RecordKind::ApiGatewayClf => "apigateway-clf",
            RecordKind::Waf => "waf",
            RecordKind::VpcFlow => "vpc-flow",
            RecordKind::Json => "json",
            RecordKind::PlainText => "text",
        }
    }
}

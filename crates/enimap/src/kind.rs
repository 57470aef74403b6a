//! The `kind` values enimap assigns (see the crate docs for the rules).
//!
//! Besides these, `kind` can be any normalized `InterfaceType` the API
//! returns (`interface`, `efa`, `efa-only`, `trunk`, `branch`, `quicksight`,
//! `global_accelerator_managed`, `api_gateway_managed`, `iot_rules_managed`,
//! `aws_codestar_connections_managed`, …).

/// A NAT gateway's interface.
pub const NAT_GATEWAY: &str = "nat_gateway";
/// An Elastic Load Balancing interface: ALB, NLB, GWLB or Classic.
pub const LOAD_BALANCER: &str = "load_balancer";
/// A Lambda function's (Hyperplane) interface.
pub const LAMBDA: &str = "lambda";
/// An interface or Gateway Load Balancer VPC endpoint's interface.
pub const VPC_ENDPOINT: &str = "vpc_endpoint";
/// An ECS task's `awsvpc` interface.
pub const ECS_TASK: &str = "ecs_task";
/// An RDS (or Aurora) DB instance's interface.
pub const RDS: &str = "rds";
/// An EFS mount target's interface.
pub const EFS_MOUNT_TARGET: &str = "efs_mount_target";
/// An EKS cluster's control-plane (cross-account) interface.
pub const EKS: &str = "eks";
/// An ElastiCache node's interface.
pub const ELASTICACHE: &str = "elasticache";
/// A Redshift cluster's interface (known from its requester only).
pub const REDSHIFT: &str = "redshift";
/// A transit gateway VPC attachment's interface.
pub const TRANSIT_GATEWAY_ATTACHMENT: &str = "transit_gateway_attachment";
/// An interface attached to an EC2 instance.
pub const EC2_INSTANCE: &str = "ec2_instance";

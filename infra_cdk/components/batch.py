"""The Batch GPU compute for large validations: a VPC, two managed EC2 (ECS) compute
environments on the ECS GPU-optimized (NVIDIA) AMI with GPU instance types (spot first,
on-demand as fallback, in that order in one job queue), and the shard job definition
(one GPU, retries on spot reclaim and host faults, a timeout) whose image is ``gpu_batch/``.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.config import StageConfig
from infra_cdk.definition import SHARD_COMMAND
from infra_cdk.packaging import IMAGE_EXCLUDES, AssetPaths

SHARD_VCPUS = 4
SHARD_MEMORY_GIB = 15  # fits a g5.xlarge / g6.xlarge (16 GiB) next to the ECS agent
SHARD_ATTEMPTS = 3


class GpuBatch(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, assets: AssetPaths,
                 environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        self.vpc = _vpc(self, config)
        images = [batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2_NVIDIA)]
        common = dict(vpc=self.vpc, images=images, use_optimal_instance_classes=False,
                      instance_types=[ec2.InstanceType(t) for t in config.gpu_instance_types],
                      minv_cpus=0, maxv_cpus=config.batch_max_vcpus,
                      vpc_subnets=ec2.SubnetSelection(
                          subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                      update_to_latest_image_version=True)
        self.spot = batch.ManagedEc2EcsComputeEnvironment(
            self, "GpuSpot", spot=True,
            allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED,
            **common)
        self.on_demand = batch.ManagedEc2EcsComputeEnvironment(
            self, "GpuOnDemand", spot=False,
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE, **common)
        self.queue = batch.JobQueue(self, "GpuQueue", priority=1, compute_environments=[
            batch.OrderedComputeEnvironment(compute_environment=self.spot, order=1),
            batch.OrderedComputeEnvironment(compute_environment=self.on_demand, order=2)])
        self.job_role = iam.Role(self, "ShardJobRole",
                                 assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                                 description="one shard: read its input, write its state")
        self.job_definition = _job_definition(self, config, assets, environment, self.job_role)


def container_command(command: tuple[str, ...], dockerfile: Path) -> list[str]:
    """The job's ``command`` for the image: Batch cannot override an image's ENTRYPOINT and
    appends ``command`` to it, so for an image whose ENTRYPOINT already runs the worker
    (``gpu_batch/entrypoint.py`` calls ``synthos.aws.batch_worker.main``), ``python -m
    module`` is dropped and only the arguments remain."""
    has_entrypoint = any(line.strip().upper().startswith("ENTRYPOINT")
                         for line in dockerfile.read_text().splitlines())
    if has_entrypoint and command[:2] == ("python", "-m"):
        return list(command[3:])
    return list(command)


def _vpc(scope: Construct, config: StageConfig) -> ec2.Vpc:
    vpc = ec2.Vpc(scope, "Vpc", max_azs=2, nat_gateways=config.nat_gateways,
                  subnet_configuration=[
                      ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC,
                                              cidr_mask=24),
                      ec2.SubnetConfiguration(name="workers", cidr_mask=20,
                                              subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)])
    vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
    flow_logs = logs.LogGroup(scope, "FlowLogs", retention=config.log_retention,
                              removal_policy=config.removal_policy)
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(
        flow_logs), traffic_type=ec2.FlowLogTrafficType.REJECT)
    return vpc


def _job_definition(scope: Construct, config: StageConfig, assets: AssetPaths,
                    environment: dict[str, str], role: iam.IRole) -> batch.EcsJobDefinition:
    log_group = logs.LogGroup(scope, "ShardLogs", retention=config.log_retention,
                              removal_policy=config.removal_policy)
    container = batch.EcsEc2ContainerDefinition(
        scope, "ShardContainer",
        image=ecs.ContainerImage.from_asset(str(assets.gpu_context),
                                            file=assets.gpu_dockerfile,
                                            exclude=list(IMAGE_EXCLUDES),
                                            platform=ecr_assets.Platform.LINUX_AMD64),
        cpu=SHARD_VCPUS, memory=Size.gibibytes(SHARD_MEMORY_GIB), gpu=1,
        command=container_command(SHARD_COMMAND, assets.gpu_context / assets.gpu_dockerfile),
        job_role=role, environment=environment,
        logging=ecs.LogDriver.aws_logs(stream_prefix="shard", log_group=log_group))
    # SPOT_INSTANCE_RECLAIMED is "Host EC2*": a reclaimed or failed host, not the shard's fault
    reasons = [batch.Reason.SPOT_INSTANCE_RECLAIMED, batch.Reason.CANNOT_PULL_CONTAINER]
    return batch.EcsJobDefinition(
        scope, "ShardJob", container=container, retry_attempts=SHARD_ATTEMPTS,
        retry_strategies=[*(batch.RetryStrategy.of(batch.Action.RETRY, r) for r in reasons),
                          batch.RetryStrategy.of(batch.Action.EXIT,
                                                 batch.Reason.NON_ZERO_EXIT_CODE)],
        timeout=Duration.minutes(config.shard_timeout_minutes),
        parameters={"manifest_uri": "", "index": "0"}, propagate_tags=True)

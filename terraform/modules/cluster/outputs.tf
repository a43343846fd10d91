output "name" {
  description = "Name of the cluster."
  value       = aws_eks_cluster.this.name
}

output "arn" {
  description = "ARN of the cluster."
  value       = aws_eks_cluster.this.arn
}

output "endpoint" {
  description = "Endpoint of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider of the cluster (IRSA)."
  value       = aws_iam_openid_connect_provider.irsa.arn
}

output "oidc_issuer" {
  description = "OIDC issuer of the cluster without https:// (the prefix of the IRSA condition keys)."
  value       = replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://", "")
}

output "workload_security_group_id" {
  description = "The cluster security group, shared by the control plane and the managed nodes: the source the database admits."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

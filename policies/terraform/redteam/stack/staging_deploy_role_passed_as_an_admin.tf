# At deploy time, a tfvars puts the CI deploy role among the administrators: the code is
# untouched, the plan is not.
# root: envs/staging
# var: admin_role_arns = ["arn:aws:iam::111111111111:role/template-api-staging-ci-deploy"]
# want: cluster.ci_cluster_admin module.stack.module.cluster.aws_eks_access_policy_association.admin["arn:aws:iam::111111111111:role/template-api-staging-ci-deploy"]

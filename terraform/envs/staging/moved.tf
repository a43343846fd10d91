# Upgrade from the layout before modules/stack: the same resources, now inside module.stack.
# Terraform moves them in the state on the next plan; delete this file once every state has moved.
moved {
  from = module.observability
  to   = module.stack.module.observability
}

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.registry
  to   = module.stack.module.registry
}

moved {
  from = module.cluster
  to   = module.stack.module.cluster
}

moved {
  from = module.database
  to   = module.stack.module.database
}

moved {
  from = module.identity
  to   = module.stack.module.identity
}

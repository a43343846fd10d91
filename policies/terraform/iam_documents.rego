# Every IAM policy document of the plan, as normalised statements the rules can judge: identity
# policies, trust policies and resource policies (KMS, S3, ECR, Secrets Manager, SQS, SNS).
#
# A document known at plan time is parsed as JSON. A document unknown at plan time is judged only
# when it is built by an aws_iam_policy_document: the plan shows that data source's statements
# with the known parts in place, and each unknown part is accepted only when its expression
# provably names a resource this plan creates (it then reads "(known after apply: <address>)").
# Any other unknown document, or unknown part, makes the document unjudgeable, which is refused.
package terraform.guardrails

# [resource type, attribute, kind] of every policy document attribute the rules read.
document_attributes := {
	["aws_iam_policy", "policy", "identity"],
	["aws_iam_role_policy", "policy", "identity"],
	["aws_iam_user_policy", "policy", "identity"],
	["aws_iam_group_policy", "policy", "identity"],
	["aws_iam_role", "assume_role_policy", "trust"],
	["aws_kms_key", "policy", "resource"],
	["aws_kms_key_policy", "policy", "resource"],
	["aws_s3_bucket_policy", "policy", "resource"],
	["aws_s3_bucket", "policy", "resource"],
	["aws_ecr_repository_policy", "policy", "resource"],
	["aws_ecr_registry_policy", "policy", "resource"],
	["aws_secretsmanager_secret_policy", "policy", "resource"],
	["aws_secretsmanager_secret", "policy", "resource"],
	["aws_sqs_queue", "policy", "resource"],
	["aws_sqs_queue_policy", "policy", "resource"],
	["aws_sns_topic", "policy", "resource"],
	["aws_sns_topic_policy", "policy", "resource"],
}

# documents: {address, type, kind, statements} for every document that can be judged.
documents contains {"address": rc.address, "type": rc.type, "kind": kind, "statements": statements} if {
	some [type, attr, kind] in document_attributes
	some rc in of_type(type)
	statements := document_statements(rc, [attr])
}

# Inline policies of a role (the deprecated inline_policy blocks).
documents contains {"address": rc.address, "type": rc.type, "kind": "identity", "statements": statements} if {
	some rc in of_type("aws_iam_role")
	some i, inline in as_array(object.get(rc.change.after, "inline_policy", []))
	statements := document_statements(rc, ["inline_policy", i, "policy"])
}

# unjudgeable: {address, why} for every document attribute that cannot be judged.
unjudgeable contains {"address": rc.address, "why": why} if {
	some [type, attr, _] in document_attributes
	some rc in of_type(type)
	some why in document_problems(rc, [attr])
}

unjudgeable contains {"address": rc.address, "why": why} if {
	some rc in of_type("aws_iam_role")
	some i, _ in as_array(object.get(rc.change.after, "inline_policy", []))
	some why in document_problems(rc, ["inline_policy", i, "policy"])
}

violations contains violation("iam.document_unjudgeable", u.address, u.why) if {
	some u in unjudgeable
}

# --- a document known at plan time ------------------------------------------------------------

document_statements(rc, path) := statements if {
	not unknown_in(rc, path)
	raw := value_at(rc, path)
	is_string(raw)
	raw != ""
	doc := json.unmarshal(raw)
	statements := [json_statement(st) | some st in as_array(object.get(doc, "Statement", []))]
}

document_problems(rc, path) := ({"the policy is not valid JSON" |
	not unknown_in(rc, path)
	raw := value_at(rc, path)
	is_string(raw)
	raw != ""
	not json.is_valid(raw)
} | {"the policy is unknown at plan and not built by an aws_iam_policy_document: it cannot be judged before apply" |
	unknown_in(rc, path)
	expression_at(rc, path) != null
	count(document_sources(rc, path)) == 0
}) | {why |
	unknown_in(rc, path)
	some d in document_sources(rc, path)
	some why in data_document_problems(d)
}

json_statement(st) := {
	"sid": object.get(st, "Sid", ""),
	"effect": object.get(st, "Effect", ""),
	"actions": as_array(object.get(st, "Action", null)),
	"not_action": "NotAction" in object.keys(st),
	"resources": as_array(object.get(st, "Resource", null)),
	"not_resource": "NotResource" in object.keys(st),
	"principals": json_principals(object.get(st, "Principal", null)),
	"not_principal": "NotPrincipal" in object.keys(st),
	"conditions": [{"op": op, "key": key, "values": as_array(values), "key_from_issuer": false} |
		some op, pairs in object.get(st, "Condition", {})
		some key, values in pairs
	],
}

json_principals(p) := [{"type": "AWS", "id": "*"}] if p == "*"

json_principals(p) := [{"type": type, "id": id} | some type, ids in p; some id in as_array(ids)] if is_object(p)

json_principals(p) := [] if p == null

# --- a document unknown at plan time ----------------------------------------------------------

# Built by aws_iam_policy_document data sources, and nothing else.
document_statements(rc, path) := statements if {
	unknown_in(rc, path)
	sources := document_sources(rc, path)
	count(sources) > 0
	every d in sources {
		count(data_document_problems(d)) == 0
	}
	statements := [st | some d in sources; some st in data_statements(d)]
}

# The deferred aws_iam_policy_document instances an attribute comes from; undefined when any
# other leaf than such a document (or a meta value) is reachable.
document_sources(rc, path) := {d |
	some l in provenance(rc, path)
	[address, attr] := res_leaf(l)
	type_of(address) == "data.aws_iam_policy_document"
	attr in {"json", "minified_json", ""}
	some d in deferred_data
	base_address(d.address) == address
} if {
	every l in provenance(rc, path) {
		document_leaf(l)
	}
}

document_sources(rc, path) := set() if {
	some l in provenance(rc, path)
	not document_leaf(l)
}

document_leaf(l) if startswith(l, "meta:")

document_leaf(l) if {
	[address, attr] := res_leaf(l)
	type_of(address) == "data.aws_iam_policy_document"
	attr in {"json", "minified_json", ""}
}

own_problems(d) := {sprintf("%s: %s", [d.address, why]) | some why in document_shape_problems(d)} | {sprintf("%s: statement %d: %s unknown at plan and not provably safe (only ids and ARNs of resources of this plan are)", [d.address, i, field]) |
	some i, _ in as_array(value_at(d, ["statement"]))
	some field in unprovable_fields(d, i)
}

document_shape_problems(d) := ((({"override_policy_documents replace statements the plan cannot see" |
	count(as_array(object.get(d.change.after, "override_policy_documents", null))) > 0
} | {"override_policy_documents replace statements the plan cannot see" |
	unknown_in(d, ["override_policy_documents"])
}) | {"source_json or override_json are not judged (use statement blocks)" |
	some attr in ["source_json", "override_json"]
	value_at(d, [attr]) != null
}) | {"its statements are unknown at plan (a dynamic block over an apply-time value)" |
	unknown_at(d, ["statement"])
}) | {"statement blocks the plan does not show (dynamic blocks) cannot be judged" |
	count(as_array(value_at(d, ["statement"]))) != count(as_array(object.get(config_of(d).block.expressions, ["statement"], [])))
}

data_document_problems(d) := ((own_problems(d) | {sprintf("%s: source_policy_documents are unknown at plan and not built by an aws_iam_policy_document", [d.address]) |
	unknown_in(d, ["source_policy_documents"])
	count(document_sources(d, ["source_policy_documents"])) == 0
}) | {p |
	unknown_in(d, ["source_policy_documents"])
	some s in document_sources(d, ["source_policy_documents"])
	some p in own_problems(s)
}) | {sprintf("%s: its source document %s has source documents of its own: one level is judged", [d.address, s.address]) |
	unknown_in(d, ["source_policy_documents"])
	some s in document_sources(d, ["source_policy_documents"])
	unknown_in(s, ["source_policy_documents"])
}

# Statements of a deferred data source, with its source_policy_documents (known, or themselves
# deferred data sources one level down).
data_statements(d) := array.concat(source_statements(d), [data_statement(d, i, st) | some i, st in as_array(value_at(d, ["statement"]))])

source_statements(d) := [json_statement(st) |
	some raw in as_array(value_at(d, ["source_policy_documents"]))
	is_string(raw)
	some st in as_array(object.get(json.unmarshal(raw), "Statement", []))
] if not unknown_in(d, ["source_policy_documents"])

source_statements(d) := [st |
	some s in document_sources(d, ["source_policy_documents"])
	some i, raw in as_array(value_at(s, ["statement"]))
	st := data_statement(s, i, raw)
] if unknown_in(d, ["source_policy_documents"])

data_statement(d, i, st) := {
	"sid": object.get(st, "sid", ""),
	"effect": effect_of(object.get(st, "effect", null)),
	"actions": as_array(object.get(st, "actions", null)),
	"not_action": count(as_array(object.get(st, "not_actions", null))) > 0,
	"resources": [data_value(d, ["statement", i, "resources"], j, r) | some j, r in as_array(object.get(st, "resources", null))],
	"not_resource": count(as_array(object.get(st, "not_resources", null))) > 0,
	"principals": [{"type": p.type, "id": data_value(d, ["statement", i, "principals", k, "identifiers"], j, id)} |
		some k, p in as_array(object.get(st, "principals", []))
		some j, id in as_array(p.identifiers)
	],
	"not_principal": count(as_array(object.get(st, "not_principals", []))) > 0,
	"conditions": [{
		"op": c.test,
		"key": data_scalar(d, ["statement", i, "condition", k, "variable"], object.get(c, "variable", null)),
		"values": [data_value(d, ["statement", i, "condition", k, "values"], j, v) | some j, v in as_array(c.values)],
		"key_from_issuer": issuer_key_flag(d, i, k),
	} |
		some k, c in as_array(object.get(st, "condition", []))
	],
}

effect_of(e) := "Allow" if e == null

effect_of(e) := e if e != null

# A known element, or the placeholder of a proven one.
data_value(d, path, j, v) := v if not unknown_in(d, array.concat(path, [j]))

data_value(d, path, j, _) := sprintf("(known after apply: %s)", [concat(", ", sort(proven_names(d, path)))]) if unknown_in(d, array.concat(path, [j]))

data_scalar(d, path, v) := v if not unknown_in(d, path)

data_scalar(d, path, _) := sprintf("(known after apply: %s)", [concat(", ", sort(proven_names(d, path)))]) if unknown_in(d, path)

# The statement fields that are unknown and cannot be proven to name a resource of this plan.
unprovable_fields(d, i) := ((((({field |
	some field in ["effect", "actions", "not_actions", "not_resources", "sid"]
	unknown_in(d, ["statement", i, field])
} | {"resources" |
	unknown_in(d, ["statement", i, "resources"])
	not proven(d, ["statement", i, "resources"])
}) | {"principals" |
	some k, _ in as_array(value_at(d, ["statement", i, "principals"]))
	unknown_in(d, ["statement", i, "principals", k, "identifiers"])
	not proven_principal(d, ["statement", i, "principals", k, "identifiers"])
}) | {"principal type" |
	some k, _ in as_array(value_at(d, ["statement", i, "principals"]))
	unknown_in(d, ["statement", i, "principals", k, "type"])
}) | {"condition" |
	some k, _ in as_array(value_at(d, ["statement", i, "condition"]))
	some field in ["test"]
	unknown_in(d, ["statement", i, "condition", k, field])
}) | {"condition values" |
	some k, _ in as_array(value_at(d, ["statement", i, "condition"]))
	unknown_in(d, ["statement", i, "condition", k, "values"])
	not proven(d, ["statement", i, "condition", k, "values"])
}) | {"condition key" |
	some k, _ in as_array(value_at(d, ["statement", i, "condition"]))
	unknown_in(d, ["statement", i, "condition", k, "variable"])
	not issuer_key(d, i, k)
}

# An unknown part is proven when every leaf of its expression is an identifying attribute of a
# resource this plan creates, a constant or root input without a wildcard, or a meta value.
identifying_attributes := {"arn", "id", "name", "key_id", "resource_id", "cluster_resource_id", "bucket", "url", "issuer", ""}

proven(d, path) if {
	leaves := provenance(d, path)
	some l in leaves
	startswith(l, "res:")
	every l2 in leaves {
		proven_leaf(l2)
	}
}

# A principal unknown at plan is proven only when it is a role, user or identity provider of this
# plan (or an account id given as a constant).
principal_types := {"aws_iam_role", "aws_iam_openid_connect_provider", "aws_iam_saml_provider"}

proven_principal(d, path) if {
	proven(d, path)
	every l in provenance(d, path) {
		not wrong_principal_leaf(l)
	}
}

wrong_principal_leaf(l) if {
	[address, _] := res_leaf(l)
	not type_of(address) in principal_types
}

proven_leaf(l) if startswith(l, "meta:")

proven_leaf(l) if {
	[address, attr] := res_leaf(l)
	last := regex.replace(attr, `^.*\.`, "")
	last in identifying_attributes
	count(at_base(address)) > 0
}

proven_leaf(l) if {
	startswith(l, "const:")
	not contains(l, "*")
}

proven_leaf(l) if {
	startswith(l, "input:")
	value := input.variables[substring(l, 6, -1)].value
	not contains(json.marshal(value), "*")
}

proven_names(d, path) := {address | some l in provenance(d, path); [address, _] := res_leaf(l)}

issuer_key_flag(d, i, k) if issuer_key(d, i, k)

issuer_key_flag(d, i, k) := false if not issuer_key(d, i, k)

# An IRSA condition key whose only unknown is the cluster's OIDC issuer: its expression comes
# from an EKS cluster's identity (or an OIDC provider's URL) of this plan.
issuer_key(d, i, k) if {
	unknown_in(d, ["statement", i, "condition", k, "variable"])
	leaves := provenance(d, ["statement", i, "condition", k, "variable"])
	some l in leaves
	startswith(l, "res:")
	every l2 in leaves {
		issuer_leaf(l2)
	}
}

issuer_leaf(l) if startswith(l, "meta:")

issuer_leaf(l) if {
	[address, attr] := res_leaf(l)
	type_of(address) == "aws_eks_cluster"
	startswith(attr, "identity")
}

issuer_leaf(l) if {
	[address, attr] := res_leaf(l)
	type_of(address) == "aws_iam_openid_connect_provider"
	attr in {"url", ""}
}

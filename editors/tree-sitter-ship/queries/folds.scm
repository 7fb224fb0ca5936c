[
  (body)
  (record_type)
  (list)
  (parameters)
  (arguments)
  (triple_string)
] @fold

/**
 * @file Ship: the language of shipc (https://github.com/…/shipc)
 * @license Apache-2.0
 *
 * Mirrors grammar/ship.pest. Newlines are whitespace: an entry ends where
 * the next one starts, because an expression never continues with an
 * identifier or a string. Keywords are contextual (`image = www` and
 * `env.name` use keywords as names).
 */

const PREC = {
  or: 1,
  and: 2,
  compare: 3,
  range: 4,
  add: 5,
  unary: 6,
  postfix: 7,
};

const commaSep = (rule) => optional(seq(rule, repeat(seq(',', rule)), optional(',')));

module.exports = grammar({
  name: 'ship',

  extras: ($) => [/\s/, $.comment],

  word: ($) => $.identifier,

  rules: {
    source_file: ($) => repeat($._item),

    _item: ($) =>
      choice(
        $.import_declaration,
        $.let_declaration,
        $.type_declaration,
        $.template_declaration,
        $.function_declaration,
        $.policy_declaration,
        $.project_declaration,
        $.declaration,
      ),

    comment: (_) => token(seq('#', /.*/)),

    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,

    import_declaration: ($) => seq('import', choice($.string, $.std_path)),
    std_path: ($) => seq($.identifier, repeat1(seq('.', $.identifier))),
    let_declaration: ($) => seq('let', field('name', $.identifier), '=', field('value', $._expression)),
    type_declaration: ($) => seq('type', field('name', $.identifier), '=', field('type', $._type)),
    template_declaration: ($) =>
      seq('template', field('name', $.identifier), optional($.parameters), optional($.from_clause), $.body),
    function_declaration: ($) =>
      seq('fn', field('name', $.identifier), $.parameters, '->', field('result', $._type)),
    policy_declaration: ($) => seq('policy', $.body),
    project_declaration: ($) => seq('project', $.body),
    declaration: ($) =>
      seq(
        field('kind', $.declaration_kind),
        field('name', $.identifier),
        optional(seq($.from_clause, repeat(seq(',', $.template_use)))),
        $.body,
      ),
    declaration_kind: (_) => choice('image', 'service', 'infra', 'env', 'config', 'object'),

    parameters: ($) => seq('(', commaSep($.parameter), ')'),
    parameter: ($) =>
      seq(field('name', $.identifier), optional('?'), ':', field('type', $._type), optional(seq('=', field('default', $._expression)))),
    from_clause: ($) => seq('from', field('template', $.identifier), optional($.arguments)),
    // A further template: `service x from a, b(…)`.
    template_use: ($) => seq(field('template', $.identifier), optional($.arguments)),

    body: ($) => seq('{', repeat(seq($.entry, optional(','))), '}'),
    entry: ($) =>
      seq(
        field('path', $.path),
        choice(seq(field('label', $._key), '=', field('value', $._expression)), field('value', $.body), seq('=', field('value', $._expression))),
      ),
    path: ($) => seq($._key, repeat(seq('.', $._key))),
    _key: ($) => choice(alias($.identifier, $.property), $.string),

    // ---- types --------------------------------------------------------------
    _type: ($) => choice($.union_type, $._type_postfix),
    union_type: ($) => prec.left(seq($._type_postfix, repeat1(seq('|', $._type_postfix)))),
    _type_postfix: ($) => choice($.optional_type, $._type_atom),
    optional_type: ($) => seq($._type_atom, '?'),
    _type_atom: ($) =>
      choice($.string, $.list_type, $.map_type, $.record_type, $.generic_type, $.type_identifier, seq('(', $._type, ')')),
    list_type: ($) => seq('[', $._type, ']'),
    map_type: ($) => seq('{', 'String', ':', $._type, '}'),
    record_type: ($) => seq('{', repeat(seq($.field_type, optional(','))), '}'),
    field_type: ($) =>
      seq(repeat($.attribute), field('name', $.identifier), optional('?'), ':', field('type', $._type), optional(seq('=', field('default', $._expression)))),
    attribute: ($) => seq('@', $.identifier, '(', $.string, ')'),
    generic_type: ($) => seq($.type_identifier, '<', $._type, '>'),
    type_identifier: ($) => choice($.identifier, 'String'),

    // ---- expressions ----------------------------------------------------------
    _expression: ($) =>
      choice($.if_expression, $.binary_expression, $.unary_expression, $.limit_expression, $.member_expression, $.call_expression, $._primary),

    if_expression: ($) =>
      prec.right(seq('if', field('condition', $._expression), 'then', field('then', $._expression), 'else', field('else', $._expression))),

    binary_expression: ($) =>
      choice(
        prec.left(PREC.or, seq($._expression, '||', $._expression)),
        prec.left(PREC.and, seq($._expression, '&&', $._expression)),
        prec.left(PREC.compare, seq($._expression, choice('==', '!='), $._expression)),
        prec.left(PREC.range, seq($._expression, '..', $._expression)),
        prec.left(PREC.add, seq($._expression, '+', $._expression)),
      ),
    unary_expression: ($) => prec(PREC.unary, seq('!', $._expression)),
    // `.. limit`: a range with no request.
    limit_expression: ($) => prec.right(PREC.range, seq('..', $._expression)),
    member_expression: ($) => prec(PREC.postfix, seq(field('object', $._expression), '.', field('member', alias($.identifier, $.property)))),
    call_expression: ($) => prec(PREC.postfix, seq(field('function', $._expression), $.arguments)),
    arguments: ($) => seq('(', commaSep($.argument), ')'),
    argument: ($) => choice(seq(field('name', $.identifier), '=', field('value', $._expression)), field('value', $._expression)),

    _primary: ($) => choice($.boolean, $.identifier, $.number, $.string, $.triple_string, $.parenthesized, $.list, $.record),
    parenthesized: ($) => seq('(', $._expression, ')'),
    boolean: (_) => choice('true', 'false'),
    list: ($) => seq('[', commaSep($._expression), ']'),
    record: ($) => $.body,

    // 42, -1, 1_000, 0.5, 250m, 1.5Gi, 1h30m
    number: (_) => token(/-?[0-9][0-9_]*(\.[0-9]+)?(%|[A-Za-z]+([0-9]+(\.[0-9]+)?[A-Za-z]+)*)?/),

    string: ($) => seq('"', repeat(choice($.string_content, $.escape_sequence, $.interpolation, alias(token.immediate('$'), $.string_content))), token.immediate('"')),
    string_content: (_) => token.immediate(prec(1, /[^"\\$\n]+/)),
    triple_string: ($) =>
      seq('"""', repeat(choice(alias($._triple_content, $.string_content), $.escape_sequence, $.interpolation, alias(token.immediate('$'), $.string_content))), token.immediate('"""')),
    _triple_content: (_) => token.immediate(prec(1, choice(/[^"\\$]+/, /"[^"\\$]/, /""[^"\\$]/))),
    escape_sequence: (_) => token.immediate(seq('\\', /./)),
    interpolation: ($) => seq(token.immediate('${'), $._expression, '}'),
  },
});

#!/usr/bin/perl
# Lists what a set of netmap headers declares, for compare_headers.sh. Input: `cc -E -dD` output
# (linemarkers and #defines kept); argument: the directory whose files count (the rest is system
# headers). Output, one item a line:
#   macro NAME KIND        KIND: empty, string or int (object-like macros only)
#   enum NAME
#   struct NAME
#   field STRUCT NAME SHAPE  SHAPE: scalar, array or flex
#   func NAME INLINE        INLINE 1 for inline helpers, 0 for library functions
#   proto TEXT              a library function's prototype, storage class removed
# Names starting with netring_ / NETRING_ are netring's private helpers and are left out.
use strict;
use warnings;

my $root = shift or die "usage: extract_decls.pl HEADER_DIR < preprocessed\n";
my ($keep, $code) = (0, '');
while (<STDIN>) {
    if (/^# \d+ "([^"]*)"/) { $keep = index($1, $root) == 0; next; }
    next unless $keep;
    if (/^#define\s+(\w+)(\()?\s*(.*?)\s*$/) {
        my ($name, $paren, $body) = ($1, $2, $3);
        next if defined $paren or $name =~ /^(netring_|NETRING_)/;
        my $kind = $body eq '' ? 'empty' : $body =~ /^"/ ? 'string' : 'int';
        print "macro $name $kind\n";
        next;
    }
    next if /^#/;
    $code .= $_;
}

# Drops __attribute__((...)) and other GNU decorations, balancing the parentheses.
sub strip_attributes {
    my ($s) = @_;
    while ($s =~ /__attribute__\s*\(/g) {
        my $start = $-[0];
        my $depth = 0;
        my $i = $+[0] - 1;
        for (; $i < length $s; $i++) {
            my $c = substr($s, $i, 1);
            $depth++ if $c eq '(';
            $depth-- if $c eq ')';
            last if $depth == 0;
        }
        substr($s, $start, $i + 1 - $start) = ' ';
        pos($s) = $start;
    }
    $s =~ s/\b(__extension__|__restrict|__inline__|__inline)\b/ /g;
    return $s;
}

# Splits text at the given separator where no bracket is open.
sub split_top {
    my ($s, $sep) = @_;
    my ($depth, $cur, @parts) = (0, '');
    for my $c (split //, $s) {
        if ($c =~ /[\(\[\{]/) { $depth++ }
        if ($c =~ /[\)\]\}]/) { $depth-- }
        if ($c eq $sep && $depth == 0) { push @parts, $cur; $cur = ''; next; }
        $cur .= $c;
    }
    push @parts, $cur if $cur =~ /\S/;
    return @parts;
}

sub fields_of {
    my ($struct, $body) = @_;
    for my $decl (split_top($body, ';')) {
        $decl =~ s/\{[^{}]*\}/ /g while $decl =~ /\{/; # a nested struct's body
        my @declarators = split_top($decl, ',');
        for my $d (@declarators) {
            my ($name, $dims);
            if ($d =~ /\(\s*\*\s*(\w+)\s*\)/) { ($name, $dims) = ($1, ''); }
            elsif ($d =~ /(\w+)\s*((?:\[[^\]]*\]\s*)*)$/) { ($name, $dims) = ($1, $2); }
            else { next; }
            my $shape = $dims =~ /\[\s*\]/ ? 'flex' : $dims ne '' ? 'array' : 'scalar';
            print "field $struct $name $shape\n";
        }
    }
}

# Top-level statements: a declaration ends at ';', a function definition at its closing brace.
my ($depth, $stmt) = (0, '');
for my $c (split //, strip_attributes($code)) {
    $stmt .= $c;
    if ($c eq '{') { $depth++; next; }
    if ($c eq '}') {
        $depth--;
        if ($depth == 0 && $stmt =~ /^[^{]*\)\s*\{/s) { statement($stmt, 1); $stmt = ''; }
        next;
    }
    if ($c eq ';' && $depth == 0) { statement($stmt, 0); $stmt = ''; }
}

sub statement {
    my ($s, $is_definition) = @_;
    $s =~ s/\s+/ /g;
    $s =~ s/^ //;
    return if $s =~ /^typedef\b/;
    if (!$is_definition && $s =~ /^(?:struct|union) (\w+) ?\{(.*)\}/) {
        print "struct $1\n";
        fields_of($1, $2);
        return;
    }
    if (!$is_definition && $s =~ /^enum ?\w* ?\{(.*)\}/) {
        for my $e (split_top($1, ',')) {
            next unless $e =~ /^\s*(\w+)/;
            my $name = $1;
            print "enum $name\n" unless $name =~ /^(netring_|NETRING_)/;
        }
        return;
    }
    my $head = $is_definition ? ($s =~ /^([^{]*)\{/)[0] : $s;
    return unless $head =~ /^[^(=]*?(\w+) ?\(/;    # a variable or a forward declaration
    my $name = $1;
    return if $name =~ /^(netring_|NETRING_)/;
    my $inline = $head =~ /\binline\b/ ? 1 : 0;
    print "func $name $inline\n";
    return if $inline;
    $head =~ s/\b(static|extern)\b ?//g;
    $head =~ s/ ?;? ?$//;
    print "proto $head;\n";
}

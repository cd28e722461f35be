/* gcmsg_html_to_text: the flattening rules of html_text.c, exact outputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static char *flat_n(const char *html, size_t len)
{
	char *out = (char *)1;

	assert_int_equal(gcmsg_html_to_text(&out, html, len), GCMSG_OK);
	assert_non_null(out);
	return out;
}

#define assert_flat(html, expected)                         \
	do {                                                \
		char *out_ = flat_n((html), strlen(html));  \
		assert_string_equal(out_, (expected));      \
		gcmsg_free(out_);                           \
	} while (0)

static void test_demo(void **state)
{
	(void)state;
	assert_flat("<p>Thanks for contacting us, {{CUSTOMER_NAME}}!</p><p>Our team is available:</p><ul><li>Mon&ndash;"
	            "Fri 8:00&ndash;18:00</li><li>Sat 9:00&ndash;13:00</li></ul><p>Meanwhile, see <a "
	            "href=\"https://help.example.com/\">our help centre</a>.</p>",
	            "Thanks for contacting us, {{CUSTOMER_NAME}}!\n\nOur team is available:\n\n"
	            "- Mon\xe2\x80\x93" "Fri 8:00\xe2\x80\x93" "18:00\n- Sat 9:00\xe2\x80\x93" "13:00\n\n"
	            "Meanwhile, see our help centre (https://help.example.com/).");
}

static void test_blocks(void **state)
{
	(void)state;
	assert_flat("", "");
	assert_flat("plain", "plain");
	assert_flat("<p>one<p>two", "one\n\ntwo");
	assert_flat("<div><div><p>x</p></div></div><h1>T</h1>text", "x\n\nT\n\ntext");
	assert_flat("<section>a</section><article>b</article><blockquote>c</blockquote><hr>d<address>e</address>",
	            "a\n\nb\n\nc\n\nd\n\ne");
	/* <br> adds up, but never more than one blank line */
	assert_flat("a<br>b<br><br>c<br><br><br>d", "a\nb\n\nc\n\nd");
	assert_flat("<p>a</p><br><br><br><p>b</p>", "a\n\nb");
	assert_flat("a</br>b<br/>c<BR />d", "a\nb\nc\nd");
	/* leading and trailing breaks and spaces are trimmed */
	assert_flat("<br><p> \n </p>  <p>x</p><br><br> ", "x");
	/* inline elements are transparent */
	assert_flat("<b>bold</b> <i>it</i>al<span> s </span>x", "bold ital s x");
	assert_flat("<dl><dt>Term<dd>Def</dl>after", "Term\nDef\n\nafter");
	/* head: title, style, meta give nothing */
	assert_flat("<!DOCTYPE html><html><head><title>t</title><meta charset=utf-8><style>p{}</style></head>"
	            "<body>B</body></html>",
	            "B");
}

static void test_whitespace(void **state)
{
	(void)state;
	assert_flat("  a \t\r\n  b\n\nc  ", "a b c");
	assert_flat("<p>\n  Hello,\n  world\n</p>", "Hello, world");
	/* &nbsp; is a space that does not collapse, but lines are still right-trimmed */
	assert_flat("a&nbsp;&nbsp;b&nbsp;<br>c", "a  b\nc");
	assert_flat("a\xc2\xa0\xc2\xa0" "b", "a  b");
	assert_flat("<p>&nbsp;</p><p>x</p>", "x");
	/* pre keeps spaces, tabs and line breaks; the line break right after <pre> goes */
	assert_flat("<p>x</p><pre>\n  code  \n\tindented\n\n\n\nend</pre>after",
	            "x\n\n  code\n\tindented\n\nend\n\nafter");
	assert_flat("<pre>\r\na\r\nb\rc</pre>", "a\nb\nc");
	assert_flat("<pre><b>\n</b>x</pre>", "x");
}

static void test_lists(void **state)
{
	(void)state;
	assert_flat("<ul><li>a</li><li>b</li></ul>", "- a\n- b");
	assert_flat("<ol><li>a<li>b<li>c</ol>", "1. a\n2. b\n3. c");
	assert_flat("<ol start=\"9\"><li>a<li>b</ol>", "9. a\n10. b");
	assert_flat("<ol start=-1><li>a<li>b<li>c</ol>", "-1. a\n0. b\n1. c");
	assert_flat("<ol start=x><li>a</ol>", "1. a");
	assert_flat("<ol><li>a<li value=7>b<li>c</ol>", "1. a\n7. b\n8. c");
	/* ul in ol in ul, with continuation lines aligned under the item's text */
	assert_flat("<UL><LI>One<LI>Two<OL><li>a<br>more<li>b<ul><li>x</li></ul><li>c</ol><li>Three</UL>",
	            "- One\n- Two\n  1. a\n     more\n  2. b\n    - x\n  3. c\n- Three");
	assert_flat("<ul><li>a<p>second paragraph</p>tail</li></ul>", "- a\n\n  second paragraph\n\n  tail");
	/* a top-level list is a block; a nested one is not */
	assert_flat("<p>Intro:</p><ul><li>a</li></ul><p>Outro</p>", "Intro:\n\n- a\n\nOutro");
	assert_flat("Intro:<ul><li>a</li></ul>Outro", "Intro:\n\n- a\n\nOutro");
	/* an item without text shows no marker; an li outside a list is a bullet */
	assert_flat("<ul><li></li><li>b</li></ul>", "- b");
	assert_flat("<li>loose</li>", "- loose");
	/* nesting deeper than 10 levels stops indenting */
	assert_flat("x<ul><li>1<ul><li>2<ul><li>3<ul><li>4<ul><li>5<ul><li>6<ul><li>7<ul><li>8<ul><li>9<ul><li>10"
	            "<ul><li>11<ul><li>12</ul></ul></ul></ul></ul></ul></ul></ul></ul></ul></ul></ul>",
	            "x\n\n- 1\n  - 2\n    - 3\n      - 4\n        - 5\n          - 6\n            - 7\n"
	            "              - 8\n                - 9\n                  - 10\n                  - 11\n"
	            "                  - 12");
	/* unclosed lists and items */
	assert_flat("<ul><li>a<li>b", "- a\n- b");
	/* an end tag with nothing of its name open is ignored */
	assert_flat("<ol><li>a</ul>b", "1. ab");
}

static void test_links(void **state)
{
	(void)state;
	assert_flat("see <a href=\"https://e.com/a?x=1&amp;y=2\">go</a>.", "see go (https://e.com/a?x=1&y=2).");
	/* the text is the url: once */
	assert_flat("<a href=\"https://e.com/\">https://e.com/</a>", "https://e.com/");
	assert_flat("<a href=\"https://e.com/\">https://e.com</a>", "https://e.com");
	assert_flat("<a href=\"HTTPS://E.com\">e.com</a>", "e.com");
	assert_flat("<a href=\"http://e.com/x/\">e.com/x</a>", "e.com/x");
	assert_flat("<a href=\"ftp://e.com\">e.com</a>", "e.com (ftp://e.com)");
	/* mailto: and tel: of the text */
	assert_flat("<a href=\"mailto:a@b.c\">a@b.c</a>", "a@b.c");
	assert_flat("<a href=\"mailto:a@b.c?subject=Hi\">A@B.C</a>", "A@B.C");
	assert_flat("<a href=\"mailto:a@b.c\">write to us</a>", "write to us (mailto:a@b.c)");
	assert_flat("<a href=\"tel:+1-555-0100\">+1 (555) 0100</a>", "+1 (555) 0100");
	assert_flat("<a href=\"tel:+15550100\">call us</a>", "call us (tel:+15550100)");
	/* no url: none, a fragment, scripts and data, even disguised */
	assert_flat("<a>none</a> <a href=\"\">empty</a> <a href=\"#top\">top</a>", "none empty top");
	assert_flat("<a href=\"javascript:alert(1)\">js</a> <a href=\" JavaScript:x\">js2</a> "
	            "<a href=\"java&#x09;script:x\">js3</a> <a href=\"java\nscript:x\">js4</a> "
	            "<a href=\"vbscript:x\">vb</a> <a href=\"data:text/html,x\">d</a>",
	            "js js2 js3 js4 vb d");
	/* no text: the url */
	assert_flat("<a href=\"http://x.y\"></a> <a href=\"http://x.y\"><img src=z></a>", "http://x.y http://x.y");
	/* unquoted and single-quoted hrefs; an unclosed link ends with the text */
	assert_flat("<a href=u1>a</a> <a href='u2'>b</a> <a href=\"u3\">unclosed", "a (u1) b (u2) unclosed (u3)");
	/* an <a> inside an <a> closes it */
	assert_flat("<a href=u1>a<a href=u2>b</a>", "a (u1)b (u2)");
	/* tabs and line breaks are removed from hrefs, surrounding spaces trimmed */
	assert_flat("<a href=\" http://e.com/\n a \">x</a>", "x (http://e.com/ a)");
	/* the link text starts after the separator and the list marker */
	assert_flat("<ul><li><a href=\"https://e.com\">https://e.com</a></li></ul>", "- https://e.com");
	assert_flat("x <a href=\"https://e.com\"> https://e.com </a> y", "x https://e.com y");
	/* a break inside the link: the url follows its text */
	assert_flat("<a href=\"u\"><p>para</p></a>next", "para (u)\n\nnext");
}

static void test_images_tables(void **state)
{
	(void)state;
	assert_flat("<img src=x alt=\"A &amp; B\"> <img src=y> <a href=\"u\"><img alt=\"pic\"></a>", "A & B pic (u)");
	assert_flat("<img alt=\"  many   spaces \">", "many spaces");
	assert_flat("<img alt=\"two\nlines&#9;tab\">", "two lines tab");
	assert_flat("<table><tr><th>A<th>B<tr><td>1<td>2</table>after", "A | B\n1 | 2\n\nafter");
	assert_flat("<table><caption>Cap</caption><tr><td><p>a</p><p>b</p></td><td>c<br>d</td></tr>"
	            "<tr><td>e</td></tr></table>",
	            "Cap\na b | c d\ne");
	assert_flat("<table><td>no</td><td>row</td></table>", "no | row");
	assert_flat("<table><tr><td></td><td>x</td></tr></table>", "x");
}

static void test_dropped(void **state)
{
	(void)state;
	assert_flat("<script>if (a<b) { x = \"</p>\"; }</script>Hi<style>p { }</style> there", "Hi there");
	assert_flat("<SCRIPT type=x>a</Script >b", "b");
	assert_flat("<script>never closed <p>x</p>", "");
	assert_flat("<template><p>no</p><template>n</template>still</template><noscript>no</noscript>"
	            "<svg><text>no</text></svg>yes<svg/>after",
	            "yesafter");
	assert_flat("<select><option>o</select><object>ob</object><math>m</math><textarea>t<b></textarea>"
	            "<iframe>i</iframe><title>ti</title>ok",
	            "ok");
}

static void test_markup(void **state)
{
	(void)state;
	assert_flat("x <!-- a <p> -- b --> y <!--> z <!---> w <!-- x --!> v <!-- unclosed", "x y z w v");
	assert_flat("<!DOCTYPE html><?xml x?>a</ b>c</>d<!x>e", "acde");
	assert_flat("a < b and c<3 <", "a < b and c<3 <");
	assert_flat("<![CDATA[<x> &amp;]]>y<![CDATA[open", "<x> &amp;yopen");
	assert_flat("<p class=\"a>b\">q</p><p title='x>y'>r</p><p a=b/>s", "q\n\nr\n\ns");
	/* a tag cut off by the end is dropped */
	assert_flat("text<p class=\"x", "text");
	assert_flat("text<a href=x", "text");
	/* misnesting */
	assert_flat("<b><p>a</b>b</p>c", "ab\n\nc");
	assert_flat("</li></ul></a></td>x", "x");
}

static void test_entities(void **state)
{
	(void)state;
	assert_flat("&lt;p&gt; &quot;q&quot; &apos;a&apos; &amp;lt;", "<p> \"q\" 'a' &lt;");
	assert_flat("&euro;&copy;&reg;&trade; &hellip; &lsquo;x&rsquo; &ldquo;y&rdquo; &ndash;&mdash;",
	            "\xe2\x82\xac\xc2\xa9\xc2\xae\xe2\x84\xa2 \xe2\x80\xa6 \xe2\x80\x98x\xe2\x80\x99 "
	            "\xe2\x80\x9cy\xe2\x80\x9d \xe2\x80\x93\xe2\x80\x94");
	assert_flat("&eacute;&Eacute;&uuml;&szlig;&ntilde;&ccedil;&AElig;&yuml;",
	            "\xc3\xa9\xc3\x89\xc3\xbc\xc3\x9f\xc3\xb1\xc3\xa7\xc3\x86\xc3\xbf");
	/* numeric, with or without ';' */
	assert_flat("&#65;&#x41;&#X41;&#65 &#x1F600;&#128512", "AAAA \xf0\x9f\x98\x80\xf0\x9f\x98\x80");
	/* invalid numeric references: U+FFFD */
	assert_flat("[&#0;][&#xD800;][&#xDFFF;][&#x110000;][&#99999999999999999999;]",
	            "[\xef\xbf\xbd][\xef\xbf\xbd][\xef\xbf\xbd][\xef\xbf\xbd][\xef\xbf\xbd]");
	/* 128-159 are Windows-1252; undefined ones are C1 controls, dropped */
	assert_flat("&#150;&#128;&#x99;[&#129;]", "\xe2\x80\x93\xe2\x82\xac\xe2\x84\xa2[]");
	/* not references: kept as written */
	assert_flat("&#xZ &# &#; AT&T &bogus; &copy &amp &Copy; &", "&#xZ &# &#; AT&T &bogus; &copy &amp &Copy; &");
	/* controls from references are dropped, whitespace from references collapses */
	assert_flat("a&#1;b&#10;&#32;&#9;c&#127;d", "ab cd");
}

static void test_entity_table(void **state)
{
	/* every entity of the table decodes (this also proves the table is sorted for bsearch) */
	static const char names[] =
		"AElig Aacute Acirc Agrave Alpha Aring Atilde Auml Beta Ccedil Chi Dagger Delta ETH Eacute Ecirc "
		"Egrave Epsilon Eta Euml Gamma Iacute Icirc Igrave Iota Iuml Kappa Lambda Mu Ntilde Nu OElig Oacute "
		"Ocirc Ograve Omega Omicron Oslash Otilde Ouml Phi Pi Prime Psi Rho Scaron Sigma THORN Tau Theta "
		"Uacute Ucirc Ugrave Upsilon Uuml Xi Yacute Yuml Zeta aacute acirc acute aelig agrave alefsym alpha "
		"amp and ang apos aring asymp atilde auml bdquo beta brvbar bull cap ccedil cedil cent chi circ "
		"clubs cong copy crarr cup curren dArr dagger darr deg delta diams divide eacute ecirc egrave empty "
		"emsp ensp epsilon equiv eta eth euml euro exist fnof forall frac12 frac14 frac34 frasl gamma ge gt "
		"hArr harr hearts hellip iacute icirc iexcl igrave image infin int iota iquest isin iuml kappa lArr "
		"lambda lang laquo larr lceil ldquo le lfloor lowast loz lrm lsaquo lsquo lt macr mdash micro middot "
		"minus mu nabla nbsp ndash ne ni not notin nsub ntilde nu oacute ocirc oelig ograve oline omega "
		"omicron oplus or ordf ordm oslash otilde otimes ouml para part permil perp phi pi piv plusmn pound "
		"prime prod prop psi quot rArr radic rang raquo rarr rceil rdquo real reg rfloor rho rlm rsaquo "
		"rsquo sbquo scaron sdot sect shy sigma sigmaf sim spades sub sube sum sup sup1 sup2 sup3 supe szlig "
		"tau there4 theta thetasym thinsp thorn tilde times trade uArr uacute uarr ucirc ugrave uml upsih "
		"upsilon uuml weierp xi yacute yen yuml zeta zwj zwnj";
	const char *p = names;
	size_t count = 0;

	(void)state;
	while (*p) {
		size_t n = strcspn(p, " ");
		char in[32], *out;
		snprintf(in, sizeof(in), "x&%.*s;x", (int)n, p);
		out = flat_n(in, strlen(in));
		if (strcmp(out, in) == 0 || strlen(out) < 3)
			fail_msg("&%.*s; was not decoded: %s", (int)n, p, out);
		gcmsg_free(out);
		count++;
		p += n;
		while (*p == ' ')
			p++;
	}
	assert_int_equal(count, 253);
}

static void test_unicode(void **state)
{
	(void)state;
	/* multi-byte text, emoji (with a ZWJ sequence) and combining marks pass through */
	assert_flat("<p>Ren\xc3\xa9" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb "
	            "e\xcc\x81</p>",
	            "Ren\xc3\xa9" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb e\xcc\x81");
	/* invalid UTF-8: one U+FFFD per bad byte */
	assert_flat("a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf",
	            "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	            "d\xef\xbf\xbd\xef\xbf\xbd");
	/* controls dropped (C0, DEL, C1 as UTF-8, BOM); a NUL too */
	assert_flat("\xef\xbb\xbf" "a\x01\x7f" "b\xc2\x85" "c\x0b" "d", "abcd");
	{
		char *out = flat_n("a\0b", 3);
		assert_string_equal(out, "ab");
		gcmsg_free(out);
	}
	/* invalid UTF-8 in an attribute */
	assert_flat("<img alt=\"x\xffy\">", "x\xef\xbf\xbdy");
}

static void test_caps_and_args(void **state)
{
	char *out = (char *)1, *big;
	size_t n = (size_t)1024 * 1024, i;

	(void)state;
	assert_int_equal(gcmsg_html_to_text(NULL, "x", 1), GCMSG_EUSAGE);
	assert_int_equal(gcmsg_html_to_text(&out, NULL, 1), GCMSG_EUSAGE);
	assert_null(out);
	assert_int_equal(gcmsg_html_to_text(&out, NULL, 0), GCMSG_OK);
	assert_string_equal(out, "");
	gcmsg_free(out);

	/* 1 MiB in is fine, one byte more is not */
	big = malloc(n + 2);
	assert_non_null(big);
	memset(big, 'a', n + 1);
	big[n + 1] = '\0';
	assert_int_equal(gcmsg_html_to_text(&out, big, n + 1), GCMSG_EUSAGE);
	assert_null(out);
	assert_int_equal(gcmsg_html_to_text(&out, big, n), GCMSG_OK);
	assert_int_equal(strlen(out), n);
	gcmsg_free(out);

	/* an output above 4 MiB (deep lists expand) is refused */
	{
		static const char head[] = "<ul><ul><ul><ul><ul><ul><ul><ul><ul><ul>";
		size_t h = strlen(head);
		memcpy(big, head, h);
		for (i = h; i + 5 <= n; i += 5)
			memcpy(big + i, "<li>a", 5);
		big[i] = '\0';
		assert_int_equal(gcmsg_html_to_text(&out, big, i), GCMSG_EUSAGE);
		assert_null(out);
	}
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),         cmocka_unit_test(test_blocks),   cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_lists),        cmocka_unit_test(test_links),    cmocka_unit_test(test_images_tables),
		cmocka_unit_test(test_dropped),      cmocka_unit_test(test_markup),   cmocka_unit_test(test_entities),
		cmocka_unit_test(test_entity_table), cmocka_unit_test(test_unicode),  cmocka_unit_test(test_caps_and_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

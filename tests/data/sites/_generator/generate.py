"""Writes the four fixture sites (www/ pages and feeds, expected.yaml) from the texts in articles.py.

The committed files under tests/data/sites/<name>/ are the fixtures; this script is how they were made,
kept so that an article can be added or a theme detail changed in one place. Running it overwrites
www/ and expected.yaml of every site (site.yaml is hand-written):

    .venv/bin/python tests/data/sites/_generator/generate.py
"""
import html
import json
import os
import pathlib
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ among the fixtures
sys.path.insert(0, os.path.dirname(__file__))
from articles import DBA, ECOFIN, ICESCO, SPUTNIK  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent
E = html.escape
B = "{{BASE}}"

def write(site, rel, text):
    p = OUT / site / "www" / rel.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")

def yaml_str(s): return json.dumps(s, ensure_ascii=False)

# ---------------- Digital Business Africa (WordPress, tagDiv Newspaper) -----------------
def dba_content(a, for_feed=False):
    ps = [f"<p>{E(p, quote=False)}</p>" for p in a["paras"]]
    ps.insert(2, '<div class="td-a-rec td-a-rec-id-content_inlineleft tdi_3 td_block_template_1"><span class="td-adspot-title">- Advertisement -</span><a href="https://www.digitalbusiness.africa/abonnement/"><img src="https://www.digitalbusiness.africa/wp-content/uploads/2023/09/banniere-abonnement.jpg" alt="" width="300" height="250"></a></div>' if not for_feed else "")
    ps.append(f"<p><strong>Par {E(a['author'])}</strong></p>")
    ps.append("<p>&nbsp;</p>")
    ps.append("<p><em>Si vous avez aimé ce texte, vous aimerez bien bien d'autres. Rejoignez notre canal <a href=\"https://t.me/digitalbusinessafrica\">Telegram</a> et notre <a href=\"https://whatsapp.com/channel/0029VaDBA\">chaîne WhatsApp</a> pour ne rien manquer de nos infos stratégiques et de nos exclusivités. Aussi, merci de nous laisser votre commentaire au bas de cet article. Bonne navigation.</em></p>")
    return "\n".join(p for p in ps if p)

def dba_related(others):
    items = []
    for o in others:
        items.append(f'''<div class="td_module_related_posts td-animation-stack td_mod_related_posts">
    <div class="td-module-image"><div class="td-module-thumb"><a href="{B}/{o['slug']}/" rel="bookmark" class="td-image-wrap" title="{E(o['title'])}"><img class="entry-thumb" src="https://www.digitalbusiness.africa/wp-content/uploads/2024/01/thumb-218x150.jpg" alt="" title="{E(o['title'])}"></a></div></div>
    <div class="item-details"><h3 class="entry-title td-module-title"><a href="{B}/{o['slug']}/" rel="bookmark" title="{E(o['title'])}">{E(o['title'])}</a></h3></div>
</div>''')
    return "\n".join(items)

def dba_page(a, others):
    cats = "".join(f'<li class="entry-category"><a href="{B}/category/{c.lower()}/">{E(c)}</a></li>' for c in a["cats"][:2])
    tags = "".join(f'<li><a href="{B}/tag/{c.lower()}/">{E(c)}</a></li>' for c in a["cats"])
    return f'''<!doctype html >
<!--[if IE 8]>    <html class="ie8" lang="en"> <![endif]-->
<!--[if gt IE 8]><!--> <html lang="fr-FR"> <!--<![endif]-->
<head>
    <title>{E(a['title'])} - Digital Business Africa</title>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link rel="pingback" href="https://www.digitalbusiness.africa/xmlrpc.php" />
    <meta name='robots' content='index, follow, max-image-preview:large, max-snippet:-1, max-video-preview:-1' />
    <link rel="canonical" href="{B}/{a['slug']}/" />
    <meta property="og:locale" content="fr_FR" />
    <meta property="og:type" content="article" />
    <meta property="og:title" content="{E(a['title'])}" />
    <meta property="og:url" content="{B}/{a['slug']}/" />
    <meta property="og:site_name" content="Digital Business Africa" />
    <meta property="article:publisher" content="https://www.facebook.com/digitalbusinessafrica" />
    <meta property="article:published_time" content="{a['iso']}" />
    <meta name="author" content="{E(a['author'])}" />
    <meta name="twitter:card" content="summary_large_image" />
    <script type="application/ld+json" class="yoast-schema-graph">{{"@context":"https://schema.org","@graph":[{{"@type":"NewsArticle","@id":"{B}/{a['slug']}/#article","headline":{yaml_str(a['title'])},"datePublished":"{a['iso']}","author":{{"name":{yaml_str(a['author'])}}},"inLanguage":"fr-FR"}}]}}</script>
    <link rel='stylesheet' id='td-theme-css' href='https://www.digitalbusiness.africa/wp-content/themes/Newspaper/style.css?ver=12.6.3' type='text/css' media='all' />
    <script type="text/javascript" src="https://www.digitalbusiness.africa/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
    <script>var tdBlocksArray = []; var tdLocalCache = {{}}; window.tdwGlobal = {{"adminUrl":"https:\\/\\/www.digitalbusiness.africa\\/wp-admin\\/"}};</script>
</head>
<body class="post-template-default single single-post postid-{a['pid']} single-format-standard td-standard-pack global-block-template-1 td-full-layout" itemscope="itemscope" itemtype="https://schema.org/WebPage">
<div class="td-scroll-up"><i class="td-icon-menu-up"></i></div>
<div class="td-menu-background"></div>
<div id="td-mobile-nav">
    <div class="td-mobile-container">
        <div class="td-menu-socials-wrap"><div class="td-menu-socials"><span class="td-social-icon-wrap"><a target="_blank" href="https://www.facebook.com/digitalbusinessafrica" title="Facebook"><i class="td-icon-font td-icon-facebook"></i><span style="display: none">Facebook</span></a></span></div></div>
        <div class="td-mobile-content"><div class="menu-menu-principal-container"><ul id="menu-menu-principal" class="td-mobile-main-menu"><li class="menu-item"><a href="{B}/">Accueil</a></li><li class="menu-item"><a href="{B}/category/telecoms/">Télécoms</a></li><li class="menu-item"><a href="{B}/category/cybersecurite/">Cybersécurité</a></li></ul></div></div>
    </div>
</div>
<div id="td-outer-wrap" class="td-theme-wrap">
    <div class="td-header-template-wrap" style="position: relative">
        <div class="td-header-desktop-wrap">
            <div id="tdi_1" class="tdc-zone"><div class="tdc_zone tdi_2 wpb_row td-pb-row tdc-element-style">
                <div class="td_block_wrap tdb_header_logo tdi_4 td-pb-border-top td_block_template_1 tdb-header-align"><div class="tdb-block-inner td-fix-index"><a class="tdb-logo-a" href="{B}/"><span class="tdb-logo-img-wrap"><img class="tdb-logo-img" src="https://www.digitalbusiness.africa/wp-content/uploads/2021/03/logo-dba.png" alt="Digital Business Africa" title="Digital Business Africa"></span></a></div></div>
                <div class="td_block_wrap tdb_header_menu tdi_5 tds_menu_active1"><div id="tdi_5" class="td_block_inner td-fix-index"><div class="tdb-main-sub-icon-fake"></div><ul id="menu-menu-principal-1" class="tdb-block-menu tdb-menu tdb-menu-items-visible"><li class="menu-item"><a href="{B}/"><div class="tdb-menu-item-text">Accueil</div></a></li><li class="menu-item"><a href="{B}/category/telecoms/"><div class="tdb-menu-item-text">Télécoms</div></a></li><li class="menu-item"><a href="{B}/category/tic/"><div class="tdb-menu-item-text">TIC</div></a></li><li class="menu-item"><a href="{B}/category/cooperation/"><div class="tdb-menu-item-text">Coopération</div></a></li></ul></div></div>
            </div></div>
        </div>
    </div>
    <div class="td-main-content-wrap td-container-wrap">
        <div class="td-container td-post-template-default ">
            <div class="td-crumb-container"><div class="entry-crumbs"><span><a title="" class="entry-crumb" href="{B}/">Accueil</a></span> <i class="td-icon-right td-bread-sep"></i> <span><a title="Voir tous les articles dans Coopération" class="entry-crumb" href="{B}/category/cooperation/">Coopération</a></span></div></div>
            <div class="td-pb-row">
                <div class="td-pb-span8 td-main-content" role="main">
                    <div class="td-ss-main-content">
<article id="post-{a['pid']}" class="post-{a['pid']} post type-post status-publish format-standard has-post-thumbnail category-cooperation" itemscope itemtype="https://schema.org/Article">
    <div class="td-post-header">
        <ul class="td-category">{cats}</ul>
        <header class="td-post-title">
            <h1 class="entry-title">{E(a['title'])}</h1>
            <div class="td-module-meta-info">
                <div class="td-post-author-name"><div class="td-author-by">Par</div> <a href="{B}/author/{a['author'].lower().replace(' ', '-')}/">{E(a['author'])}</a><div class="td-author-line"> - </div></div>
                <span class="td-post-date"><time class="entry-date updated td-module-date" datetime="{a['iso']}" >{a['fr']}</time></span>
                <div class="td-post-comments"><a href="{B}/{a['slug']}/#respond"><i class="td-icon-comments"></i>0</a></div>
                <div class="td-post-views"><i class="td-icon-views"></i><span class="td-nr-views-{a['pid']}">1247</span></div>
            </div>
        </header>
    </div>
    <div class="td-post-sharing-top"><div id="td_social_sharing_article_top" class="td-post-sharing td-ps-bg td-ps-notext td-post-sharing-style1 "><div class="td-post-sharing-visible"><a class="td-social-sharing-button td-social-sharing-button-js td-social-network td-social-facebook" href="https://www.facebook.com/sharer.php?u={B}/{a['slug']}/" title="Facebook"><div class="td-social-but-icon"><i class="td-icon-facebook"></i></div><div class="td-social-but-text">Facebook</div></a><a class="td-social-sharing-button td-social-sharing-button-js td-social-network td-social-twitter" href="https://twitter.com/intent/tweet?text={E(a['title'])}" title="Twitter"><div class="td-social-but-icon"><i class="td-icon-twitter"></i></div><div class="td-social-but-text">Twitter</div></a><a class="td-social-sharing-button td-social-sharing-button-js td-social-network td-social-whatsapp" href="https://api.whatsapp.com/send?text={E(a['title'])}" title="WhatsApp"><div class="td-social-but-icon"><i class="td-icon-whatsapp"></i></div><div class="td-social-but-text">WhatsApp</div></a></div></div></div>
    <div class="td-post-content tagdiv-type">
        <div class="td-post-featured-image"><a href="https://www.digitalbusiness.africa/wp-content/uploads/2024/01/{a['slug'][:20]}.jpg" data-caption=""><img width="696" height="392" class="entry-thumb td-modal-image" src="https://www.digitalbusiness.africa/wp-content/uploads/2024/01/{a['slug'][:20]}-696x392.jpg" alt="" title="{E(a['title'])}"/></a></div>
{dba_content(a)}
        <div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social sd-social-icon-text sd-sharing"><h3 class="sd-title">Partager :</h3><div class="sd-content"><ul><li class="share-facebook"><a rel="nofollow noopener noreferrer" class="share-facebook sd-button share-icon" href="{B}/{a['slug']}/?share=facebook" target="_blank" title="Cliquez pour partager sur Facebook"><span>Facebook</span></a></li><li class="share-linkedin"><a class="share-linkedin sd-button share-icon" href="{B}/{a['slug']}/?share=linkedin" title="Cliquez pour partager sur LinkedIn"><span>LinkedIn</span></a></li></ul></div></div></div>
    </div>
    <footer>
        <div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix"><li><span>TAGS</span></li>{tags}</ul></div>
        <div class="td-post-sharing-bottom"><div class="td-post-sharing-classic"><iframe title="bottomFacebookLike" class="td-facebook-like" frameBorder="0" src="https://www.facebook.com/plugins/like.php?href={B}/{a['slug']}/&amp;layout=button_count&amp;show_faces=false&amp;width=105&amp;action=like&amp;colorscheme=light&amp;height=21" style="border:none; overflow:hidden; width:105px; height:21px; background-color:transparent;"></iframe></div></div>
        <div class="td-block-row td-post-next-prev"><div class="td-block-span6 td-post-prev-post"><div class="td-post-next-prev-content"><span>Article précédent</span><a href="{B}/{others[0]['slug']}/">{E(others[0]['title'])}</a></div></div></div>
        <div class="td-author-name vcard author" style="display: none"><span class="fn"><a href="{B}/author/">{E(a['author'])}</a></span></div>
    </footer>
</article>
<div class="td_block_wrap td_block_related_posts tdi_8_rand td_with_ajax_pagination td-pb-border-top td_block_template_1" data-td-block-uid="tdi_8_rand">
    <h4 class="td-related-title td-block-title"><a id="tdi_9" class="td-related-left td-cur-simple-item" data-td_filter_value="" data-td_block_id="tdi_8_rand" href="#">Plus d'infos</a><a id="tdi_10" class="td-related-right" href="#">Plus de l'auteur</a></h4>
    <div id=tdi_8_rand class="td_block_inner">
        <div class="td-related-row">
{dba_related(others)}
        </div>
    </div>
</div>
<div class="comments" id="comments">
    <div id="respond" class="comment-respond">
        <h3 id="reply-title" class="comment-reply-title"><div class="td-comments-title-wrap td_block_template_1"><h4 class="block-title"><span>LAISSER UNE RÉPONSE</span></h4></div> <small><a rel="nofollow" id="cancel-comment-reply-link" href="/{a['slug']}/#respond" style="display:none;">Annuler la réponse</a></small></h3>
        <form action="https://www.digitalbusiness.africa/wp-comments-post.php" method="post" id="commentform" class="comment-form">
            <div class="clearfix"></div>
            <div class="comment-form-input-wrap td-form-comment"><textarea placeholder="Commentaire:" id="comment" name="comment" cols="45" rows="8" aria-required="true"></textarea><div class="td-warning-comment">SVP, entrez votre commentaire!</div></div>
            <div class="comment-form-input-wrap td-form-author"><input class="" id="author" name="author" placeholder="Nom:*" type="text" value="" size="30"  aria-required='true' /><div class="td-warning-author">Veuillez saisir votre nom ici</div></div>
            <div class="comment-form-input-wrap td-form-email"><input class="" id="email" name="email" placeholder="Email:*" type="text" value="" size="30"  aria-required='true' /><div class="td-warning-email-error">Vous avez entré une adresse e-mail incorrecte!</div><div class="td-warning-email">Veuillez entrer votre adresse email ici</div></div>
            <p class="comment-form-cookies-consent"><input id="wp-comment-cookies-consent" name="wp-comment-cookies-consent" type="checkbox" value="yes" /><label for="wp-comment-cookies-consent">Enregistrer mon nom, email et site web dans ce navigateur pour la prochaine fois que je commenterai.</label></p>
            <p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Publier le commentaire" /></p>
        </form>
    </div>
</div>
                    </div>
                </div>
                <div class="td-pb-span4 td-main-sidebar" role="complementary">
                    <div class="td-ss-main-sidebar">
                        <aside class="td_block_template_1 widget widget_block"><div class="td-a-rec td-a-rec-id-sidebar"><span class="td-adspot-title">spot_img</span><img src="https://www.digitalbusiness.africa/wp-content/uploads/2024/05/osiane-2024.jpg" alt=""></div></aside>
                        <div class="td_block_wrap td_flex_block_1"><h4 class="td-block-title"><span>Derniers articles</span></h4><div class="td-block-inner"><div class="td-module-container"><h3 class="entry-title td-module-title"><a href="{B}/a-osiane-2024-larpce-tout-feu-tout-flamme/">A Osiane 2024, l’ARPCE tout feu, tout flamme avec les jeunes filles invitées à mieux profiter du numérique</a></h3><time class="entry-date updated td-module-date" datetime="2024-06-20T10:11:00+01:00">20 juin 2024</time></div></div></div>
                    </div>
                </div>
            </div>
        </div>
    </div>
    <div class="td-footer-template-wrap" style="position: relative">
        <div class="td-footer-wrap"><div class="tdc-zone"><div class="td_block_wrap tdb_footer_text"><p>© Digital Business Africa 2024 – Tous droits réservés. Le magazine des TIC et de l’économie numérique en Afrique.</p></div>
        <div class="menu-footer-container"><ul class="menu"><li><a href="{B}/a-propos/">A propos</a></li><li><a href="{B}/contact/">Contact</a></li><li><a href="{B}/politique-de-confidentialite/">Politique de confidentialité</a></li></ul></div></div></div>
    </div>
</div>
<script type="text/javascript" src="https://www.digitalbusiness.africa/wp-content/plugins/td-composer/legacy/Newspaper/js/tagdiv_theme.min.js?ver=12.6.3" id="td-site-min-js"></script>
<script type="text/javascript">
    jQuery().ready(function() {{ var pulldown_{a['pid']} = new tdPullDown(); tdSocialSharing.init(); }});
    /* <![CDATA[ */ var tdAjaxCount = {{"ajaxUrl":"https:\\/\\/www.digitalbusiness.africa\\/wp-admin\\/admin-ajax.php","postId":"{a['pid']}"}}; /* ]]> */
</script>
</body>
</html>
'''

def dba_feed(items):
    entries = []
    for a in items:
        cats = "\n".join(f"\t\t<category><![CDATA[{c}]]></category>" for c in a["cats"])
        excerpt = a["paras"][0][:230].rsplit(" ", 1)[0]
        entries.append(f'''	<item>
		<title>{E(a['title'], quote=False)}</title>
		<link>{B}/{a['slug']}/</link>
		<comments>{B}/{a['slug']}/#respond</comments>
		<dc:creator><![CDATA[{a['author']}]]></dc:creator>
		<pubDate>{a['rfc']}</pubDate>
{cats}
		<guid isPermaLink="false">{B}/?p={a['pid']}</guid>
		<description><![CDATA[{excerpt} [&#8230;]]]></description>
		<content:encoded><![CDATA[{dba_content(a, for_feed=True)}]]></content:encoded>
		<wfw:commentRss>{B}/{a['slug']}/feed/</wfw:commentRss>
		<slash:comments>0</slash:comments>
		<post-id xmlns="com-wordpress:feed-additions:1">{a['pid']}</post-id>
	</item>''')
    return f'''<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>Digital Business Africa</title>
	<atom:link href="{B}/feed/" rel="self" type="application/rss+xml" />
	<link>{B}</link>
	<description>Le magazine des TIC et de l&#039;économie numérique en Afrique</description>
	<lastBuildDate>Wed, 05 Jun 2024 16:10:02 +0000</lastBuildDate>
	<language>fr-FR</language>
	<sy:updatePeriod>
	hourly	</sy:updatePeriod>
	<sy:updateFrequency>
	1	</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.5.3</generator>

<image>
	<url>https://www.digitalbusiness.africa/wp-content/uploads/2021/03/cropped-favicon-32x32.png</url>
	<title>Digital Business Africa</title>
	<link>{B}</link>
	<width>32</width>
	<height>32</height>
</image> 
{chr(10).join(entries)}
	</channel>
</rss>
'''

def gen_dba():
    order = sorted(DBA, key=lambda a: a["iso"], reverse=True)
    write("digital-business-africa", "/feed/index.xml", dba_feed(order))
    for a in DBA:
        others = [o for o in DBA if o is not a]
        write("digital-business-africa", f"/{a['slug']}/index.html", dba_page(a, others))
    return [dict(path=f"/{a['slug']}/", title=a["title"], published=a["iso"], author=a["author"],
                 first=first_sentence(a["paras"][0]), last=last_sentence(a["paras"][-1])) for a in order]


def strip_dateline(s):
    return re.sub(r"^(\[DIGITAL Business Africa\] – |\(Agence Ecofin\) - )", "", s)
def first_sentence(p):
    p = strip_dateline(p)
    m = re.match(r"(.+?[.!?»])(\s|$)", p)
    return m.group(1) if m else p
def last_sentence(p):
    parts = re.split(r"(?<=[.!?»])\s+(?=[A-ZÀ-ÖØ-Þ«])", p)
    return parts[-1]

# ---------------- Agence Ecofin (Joomla 3, K2) -----------------
def ecofin_full(a):
    out = []
    for p in a["full"]:
        if p == "LIRE":
            out.append(f'<p><strong>Lire aussi :</strong> <a href="{B}/telecom/2503-64911-l-egypte-et-la-russie-discutent-cooperation-tic">25/03/2019 - L’Egypte et la Russie discutent d’une coopération renforcée dans les TIC</a></p>')
        else:
            out.append(f"<p>{E(p, quote=False)}</p>")
    return "\n".join(out)

def ecofin_page(a, others):
    related = "\n".join(f'<li><a href="{B}{o["path"]}">{E(o["title"])}</a></li>' for o in others)
    return f'''<!DOCTYPE html>
<html prefix="og: http://ogp.me/ns#" xmlns="http://www.w3.org/1999/xhtml" xml:lang="fr-fr" lang="fr-fr" dir="ltr">
<head>
	<meta name="viewport" content="width=device-width, initial-scale=1.0" />
	<base href="{B}{a['path']}" />
	<meta http-equiv="content-type" content="text/html; charset=utf-8" />
	<meta name="keywords" content="Egypte, Russie, cybersécurité, TIC" />
	<meta name="title" content="{E(a['title'])}" />
	<meta property="og:url" content="{B}{a['path']}" />
	<meta property="og:title" content="{E(a['title'])}" />
	<meta property="og:type" content="article" />
	<meta property="og:image" content="https://www.agenceecofin.com/media/k2/items/cache/{len(a['path']) * 7919}_XL.jpg" />
	<meta name="image" content="https://www.agenceecofin.com/media/k2/items/cache/{len(a['path']) * 7919}_XL.jpg" />
	<meta property="og:description" content="{E(a['intro'][:160])}" />
	<meta name="description" content="{E(a['intro'][:160])}" />
	<meta name="generator" content="Joomla! - Open Source Content Management" />
	<title>{E(a['title'])}</title>
	<link href="/templates/ecofin/favicon.ico" rel="shortcut icon" type="image/vnd.microsoft.icon" />
	<link href="/components/com_k2/css/k2.css?v=2.10.3" rel="stylesheet" type="text/css" />
	<script src="/media/jui/js/jquery.min.js?6e4a6b2b1c" type="text/javascript"></script>
	<script src="/components/com_k2/js/k2.frontend.js?v=2.10.3&amp;sitepath=/" type="text/javascript"></script>
	<script type="text/javascript">
jQuery(function($){{ initTooltips(); $("body").on("subform-row-add", initTooltips); function initTooltips (event, container) {{ container = container || document; $(container).find(".hasTooltip").tooltip({{"html": true,"container": "body"}});}} }});
	</script>
	<script async src="https://www.googletagmanager.com/gtag/js?id=UA-11012345-1"></script>
	<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}} gtag('js', new Date()); gtag('config', 'UA-11012345-1');</script>
</head>
<body class="site com_k2 view-item no-layout no-task itemid-170">
<div id="fb-root"></div>
<div class="body">
	<div class="container">
		<header class="header" role="banner">
			<div class="header-inner clearfix">
				<a class="brand pull-left" href="/"><img src="/images/logo-ecofin.png" alt="Agence Ecofin" /></a>
				<div class="header-search pull-right"><form action="/recherche" method="post" class="form-inline"><label for="mod-search-searchword" class="element-invisible">Rechercher</label> <input name="searchword" id="mod-search-searchword" maxlength="200" class="inputbox search-query" type="search" placeholder="Rechercher..." /></form></div>
			</div>
		</header>
		<nav class="navigation" role="navigation">
			<ul class="nav menu nav-pills mod-list"><li class="item-101"><a href="/">Accueil</a></li><li class="item-170 current active"><a href="/telecom">Télécom</a></li><li class="item-171"><a href="/gestion-publique">Gestion Publique</a></li><li class="item-172"><a href="/finance">Finance</a></li><li class="item-173"><a href="/hebdop1">Hebdo</a></li></ul>
		</nav>
		<div class="row-fluid">
			<main id="content" role="main" class="span9">
				<div id="system-message-container"></div>
<!-- Start K2 Item Layout -->
<span id="startOfPageId{len(a['path']) * 31}"></span>
<div id="k2Container" class="itemView">
	<div class="itemHeader">
		<span class="itemDateCreated">{a['fr']}</span>
		<h2 class="itemTitle">{E(a['title'])}</h2>
		<span class="itemAuthor">Écrit par {('<a rel="author" href="/auteurs/' + a['byline'].lower().replace(' ', '-').replace('.', '') + '">' + E(a['byline']) + '</a>') if a['byline'] else 'Agence Ecofin'}</span>
	</div>
	<div class="itemToolbar">
		<ul>
			<li><span class="itemTextResizerTitle">taille de la police</span> <a href="#" id="fontDecrease">diminuer la taille de la police</a> <a href="#" id="fontIncrease">augmenter la taille de la police</a></li>
			<li><a class="itemPrintLink" rel="nofollow" href="{B}{a['path']}?tmpl=component&amp;print=1" onclick="window.open(this.href,'printWindow','width=900,height=600,location=no,menubar=no,resizable=yes,scrollbars=yes'); return false;"><span>Imprimer</span></a></li>
			<li><a class="itemEmailLink" rel="nofollow" href="/component/mailto/?tmpl=component&amp;template=ecofin&amp;link=abc" onclick="window.open(this.href,'emailWindow','width=400,height=350,location=no,menubar=no,resizable=no,scrollbars=no'); return false;"><span>E-mail</span></a></li>
		</ul>
		<div class="clr"></div>
	</div>
	<div class="itemBody">
		<div class="itemImageBlock"><span class="itemImage"><a data-k2-modal="image" href="/media/k2/items/cache/item_XL.jpg" title="Cliquer pour prévisualiser l'image"><img src="/media/k2/items/cache/item_L.jpg" alt="{E(a['title'])}" style="width:600px; height:auto;" /></a></span><div class="clr"></div></div>
		<div class="itemIntroText">
			<p>{E(a['intro'], quote=False)}</p>
		</div>
		<div class="itemFullText">
			{ecofin_full(a)}
		</div>
		<div class="clr"></div>
		<div class="itemSocialSharing">
			<div class="itemTwitterButton"><a href="https://twitter.com/share" class="twitter-share-button" data-count="horizontal" data-via="agenceecofin">Tweet</a><script>!function(d,s,id){{var js,fjs=d.getElementsByTagName(s)[0];if(!d.getElementById(id)){{js=d.createElement(s);js.id=id;js.src="//platform.twitter.com/widgets.js";fjs.parentNode.insertBefore(js,fjs);}}}}(document,"script","twitter-wjs");</script></div>
			<div class="itemFacebookButton"><div class="fb-like" data-width="200" data-layout="button_count" data-action="like" data-show-faces="false" data-share="true"></div></div>
			<div class="clr"></div>
		</div>
		<div class="itemLinks">
			<div class="itemCategory"><span>Publié dans</span> <a href="/telecom">{E(a['cat'])}</a></div>
			<div class="itemTagsBlock"><span>Tagged under</span><ul class="itemTags"><li><a href="/component/k2/itemlist/tag/Cybersécurité">Cybersécurité</a></li><li><a href="/component/k2/itemlist/tag/Coopération">Coopération</a></li></ul><div class="clr"></div></div>
			<div class="clr"></div>
		</div>
	</div>
	<div class="itemRelated">
		<h3>Articles similaires</h3>
		<ul>
{related}
		</ul>
		<div class="clr"></div>
	</div>
	<div class="itemNavigation"><span class="itemNavigationTitle">Plus dans cette catégorie :</span> <a class="itemPrevious" href="{B}{others[0]['path']}">&laquo; {E(others[0]['title'])}</a></div>
	<div class="itemBackToTop"><a class="k2Anchor" href="{B}{a['path']}#startOfPageId">retour en haut de page</a></div>
</div>
<!-- End K2 Item Layout -->
			</main>
			<div id="aside" class="span3">
				<div class="well "><h3 class="page-header">Les plus lus</h3><ul class="mostread mod-list"><li itemscope itemtype="https://schema.org/Article"><a href="/finance/0405-117100-la-bad-approuve" itemprop="url"><span itemprop="name">La BAD approuve un prêt de 50 millions $ pour la fibre optique en Afrique centrale</span></a></li></ul></div>
				<div class="well "><div class="custom"><p>Recevez chaque matin notre newsletter gratuite.</p><form action="/newsletter" method="post"><input type="email" name="email" placeholder="Votre e-mail" /><button>S'abonner</button></form></div></div>
			</div>
		</div>
	</div>
</div>
<footer class="footer" role="contentinfo">
	<div class="container"><hr /><p class="pull-right"><a href="#top" id="back-top">Retour en haut</a></p><p>&copy; 2024 Agence Ecofin. Tous droits réservés.</p></div>
</footer>
<script type="text/javascript">var _paq = window._paq = window._paq || []; _paq.push(['trackPageView']);</script>
</body>
</html>
'''

def ecofin_feed(items):
    entries = []
    for a in items:
        entries.append(f'''		<item>
			<title>{E(a['title'], quote=False)}</title>
			<link>{B}{a['path']}</link>
			<guid isPermaLink="true">{B}{a['path']}</guid>
			<description><![CDATA[<img src="https://www.agenceecofin.com/media/k2/items/cache/item_S.jpg" alt="{E(a['title'])}" /><p>{a['intro']}</p>]]></description>
			<author>redaction@agenceecofin.com (Agence Ecofin)</author>
			<category>{E(a['cat'], quote=False)}</category>
			<pubDate>{a['rfc']}</pubDate>
		</item>''')
    return f'''<?xml version="1.0" encoding="utf-8"?>
<!-- generator="obRSS" -->
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
	<channel>
		<title>Agence Ecofin - Télécom</title>
		<description>Agence Ecofin : l'information économique africaine - Télécom</description>
		<link>{B}/telecom</link>
		<lastBuildDate>Mon, 06 May 2024 09:40:12 +0000</lastBuildDate>
		<generator>obRSS by foobla</generator>
		<atom:link href="{B}/obrss-2/telecom-rss" rel="self" type="application/rss+xml" />
		<language>fr-fr</language>
{chr(10).join(entries)}
	</channel>
</rss>
'''

def gen_ecofin():
    order = sorted(ECOFIN, key=lambda a: a["iso"], reverse=True)
    write("agence-ecofin", "/obrss-2/telecom-rss", ecofin_feed(order))
    for a in ECOFIN:
        others = [o for o in ECOFIN if o is not a]
        write("agence-ecofin", a["path"], ecofin_page(a, others))
    return [dict(path=a["path"], title=a["title"], published=a["iso"], author=a["byline"],
                 first=first_sentence(a["intro"]), last=last_sentence(a["full"][-1])) for a in order]

# ---------------- ICESCO (WordPress, Elementor-ish theme, GTranslate) -----------------
ICESCO_HEAD = '''<!DOCTYPE html>
<html dir="ltr" lang="fr-FR" prefix="og: https://ogp.me/ns#">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="profile" href="https://gmpg.org/xfn/11">
{extra}
<link rel='stylesheet' id='hello-elementor-css' href='https://icesco.org/wp-content/themes/hello-elementor/style.min.css?ver=3.0.1' media='all' />
<script src="https://icesco.org/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
<script>window.gtranslateSettings = {{"default_language":"fr","languages":["ar","en","fr"],"wrapper_selector":".gtranslate_wrapper"}};</script>
</head>'''

ICESCO_TOP = '''<body class="{body_class}">
<a class="skip-link screen-reader-text" href="#content">Aller au contenu</a>
<div class="gtranslate_wrapper" id="gt-wrapper-1"><div class="gt-disclaimer">Disclaimer: You are using Google Translate. The ICESCO is not responsible for the accuracy of the information in the translated language .</div></div>
<header id="site-header" class="site-header elementor-location-header">
	<div class="site-branding"><a href="{B}/fr/" title="ICESCO" rel="home"><img src="https://icesco.org/wp-content/uploads/2021/01/logo-fr.png" alt="ICESCO"></a></div>
	<nav class="site-navigation" aria-label="Menu principal"><ul id="menu-main-fr" class="menu"><li class="menu-item"><a href="{B}/fr/">Accueil</a></li><li class="menu-item"><a href="{B}/fr/a-propos/">À propos</a></li><li class="menu-item current-menu-item"><a href="{B}/fr/category/a-la-une/">À la une</a></li><li class="menu-item"><a href="{B}/fr/secteurs/">Secteurs</a></li><li class="menu-item"><a href="{B}/fr/contact/">Contact</a></li></ul></nav>
	<div class="lang-switcher"><a href="{B}/ar/">العربية</a> <a href="{B}/en/">English</a> <a href="{B}/fr/" class="active">Français</a></div>
</header>
<div id="feedback-widget" class="feedback-widget" role="dialog">
	<h4>votre avis</h4>
	<p>Commentaires des utilisateurs</p>
	<form class="feedback-form"><p>Dans l’ensemble, dans quelle mesure êtes-vous satisfait du site Web ?</p>
	<div class="rating"><span>Extrêmement insatisfait</span> <input type="range" min="1" max="5"> <span>Extrêmement satisfait</span></div>
	<button type="submit">Envoyer</button></form>
</div>'''

ICESCO_BOTTOM = '''<footer id="site-footer" class="site-footer" role="contentinfo">
	<div class="footer-inner"><p>Avenue des F.A.R, Hay Ryad, B.P. 2275 Rabat 10104, Royaume du Maroc</p><ul class="social"><li><a href="https://twitter.com/ICESCO_fr">Twitter</a></li><li><a href="https://www.facebook.com/ICESCO.fr">Facebook</a></li></ul><p>© 2024 ICESCO – Tous droits réservés</p></div>
</footer>
<script src="https://cdn.gtranslate.net/widgets/latest/float.js" defer></script>
<script id="feedback-js">document.querySelectorAll('.feedback-form').forEach(function(f){{f.addEventListener('submit',function(e){{e.preventDefault();}});}});</script>
</body>
</html>
'''

def icesco_url(a): return f"/fr/{a['date']}/{a['slug']}/"

def icesco_page(a, others):
    paras = "\n".join(f"<p>{E(p, quote=False)}</p>" for p in a["paras"])
    recent = "\n".join(f'<li><a href="{B}{icesco_url(o)}">{E(o["title"])}</a><span class="post-date">{o["fr"]}</span></li>' for o in others)
    extra = f'''<title>{E(a['title'])} - ICESCO</title>
<meta name="description" content="{E(a['paras'][0][:150])}" />
<link rel="canonical" href="{B}{icesco_url(a)}" />
<meta property="og:locale" content="fr_FR" />
<meta property="og:site_name" content="ICESCO" />
<meta property="og:type" content="article" />
<meta property="og:title" content="{E(a['title'])} - ICESCO" />
<meta property="og:url" content="{B}{icesco_url(a)}" />
<meta property="article:published_time" content="{a['iso']}" />'''
    return (ICESCO_HEAD.format(extra=extra) + "\n" + ICESCO_TOP.format(B=B, body_class="post-template-default single single-post single-format-standard elementor-default")
      + f'''
<main id="content" class="site-main post type-post status-publish format-standard has-post-thumbnail hentry category-a-la-une">
	<div class="page-header">
		<h1 class="entry-title">{E(a['title'])}</h1>
		<div class="post-meta"><span class="post-date"><time datetime="{a['iso']}">{a['fr']}</time></span></div>
	</div>
	<div class="page-content">
		<div class="post-thumbnail"><img width="1024" height="576" src="https://icesco.org/wp-content/uploads/2024/05/{a['slug'][:24]}-1024x576.jpg" class="attachment-large size-large wp-post-image" alt="" decoding="async"></div>
		<div class="entry-content">
{paras}
		</div>
		<div class="post-tags"><span class="tag-links">Étiquettes: <a href="{B}/fr/tag/cooperation/" rel="tag">Coopération</a>, <a href="{B}/fr/tag/numerique/" rel="tag">Numérique</a></span></div>
		<div class="share-post"><span>Partager</span> <a href="https://www.facebook.com/sharer/sharer.php?u={B}{icesco_url(a)}">Facebook</a> <a href="https://twitter.com/intent/tweet?url={B}{icesco_url(a)}">Twitter</a> <a href="https://www.linkedin.com/shareArticle?url={B}{icesco_url(a)}">LinkedIn</a></div>
	</div>
	<section class="recent-posts"><h2>Articles les plus récents</h2><ul>
{recent}
	</ul></section>
</main>
''' + ICESCO_BOTTOM.format(B=B))

def icesco_listing(items, page, has_next):
    arts = []
    for a in items:
        arts.append(f'''	<article class="post type-post status-publish format-standard has-post-thumbnail hentry category-a-la-une">
		<a href="{B}{icesco_url(a)}" class="post-thumbnail-link"><img width="800" height="450" src="https://icesco.org/wp-content/uploads/2024/05/{a['slug'][:24]}-800x450.jpg" alt="" loading="lazy"></a>
		<h3 class="entry-title"><a href="{B}{icesco_url(a)}">{E(a['title'])}</a></h3>
		<div class="post-meta"><time datetime="{a['iso']}">{a['fr']}</time></div>
		<p>{E(a['paras'][0][:180].rsplit(' ', 1)[0])} [&hellip;]</p>
		<a class="read-more" href="{B}{icesco_url(a)}">Lire la suite</a>
	</article>''')
    prev = f'<a class="prev page-numbers" href="{B}/fr/category/a-la-une/">&laquo; Précédent</a>' if page > 1 else ""
    nums = f'<span aria-current="page" class="page-numbers current">{page}</span>' + ("" if page == 2 else f' <a class="page-numbers" href="{B}/fr/category/a-la-une/page/2/">2</a>')
    if page == 2:
        nums = f'<a class="page-numbers" href="{B}/fr/category/a-la-une/">1</a> ' + nums
    nxt = f'<a class="next page-numbers" href="{B}/fr/category/a-la-une/page/{page + 1}/">Suivant &raquo;</a>' if has_next else ""
    extra = f'''<title>À la une{"" if page == 1 else f" - Page {page}"} - ICESCO</title>
<link rel="canonical" href="{B}/fr/category/a-la-une/{"" if page == 1 else f"page/{page}/"}" />
<meta property="og:locale" content="fr_FR" />'''
    return (ICESCO_HEAD.format(extra=extra) + "\n" + ICESCO_TOP.format(B=B, body_class="archive category category-a-la-une elementor-default")
      + f'''
<main id="content" class="site-main">
	<div class="page-header"><h1 class="entry-title">À la une</h1></div>
	<div class="page-content">
{chr(10).join(arts)}
	</div>
	<nav class="pagination" role="navigation"><h2 class="screen-reader-text">Navigation des articles</h2><div class="nav-links">{prev} {nums} {nxt}</div></nav>
</main>
''' + ICESCO_BOTTOM.format(B=B))

def gen_icesco():
    p1 = [a for a in ICESCO if a["page"] == 1]; p2 = [a for a in ICESCO if a["page"] == 2]
    write("icesco", "/fr/category/a-la-une/index.html", icesco_listing(p1, 1, True))
    write("icesco", "/fr/category/a-la-une/page/2/index.html", icesco_listing(p2, 2, False))
    for a in ICESCO:
        write("icesco", icesco_url(a) + "index.html", icesco_page(a, [o for o in ICESCO if o is not a]))
    return [dict(path=icesco_url(a), title=a["title"], published=a["iso"], author=None,
                 first=first_sentence(a["paras"][0]), last=last_sentence(a["paras"][-1])) for a in ICESCO]

# ---------------- Sputnik Afrique -----------------
def sputnik_blocks(a, others):
    out = []
    for kind, text in a["blocks"]:
        if kind == "text":
            out.append(f'<div class="article__block" data-type="text"><div class="article__text">{E(text, quote=False)}</div></div>')
        elif kind == "h2":
            out.append(f'<div class="article__block" data-type="h2"><h3 class="article__h2">{E(text, quote=False)}</h3></div>')
        else:
            out.append(f'''<div class="article__block" data-type="article"><div class="article__article m-image"><a href="{B}/20230601/1059553012.html" class="article__article-image" inject-number="1" inject-position=""><img media-type="ar16x9" data-source-sid="rian_photo" alt="" title="" src="https://cdn1.img.sputniknews.africa/img/07e7/06/01/1059552867_0:160:3072:1888_400x225_80_0_0_a1b2.jpg"></a><div class="article__article-info" data-type="article"><div class="article__article-date" data-unixtime="1685620500">01.06.2023</div><a href="{B}/20230601/1059553012.html" class="article__article-title">{E(text, quote=False)}</a></div><div class="article__article-desc"><span>À lire aussi</span></div></div></div>''')
    return "\n".join(out)

def sputnik_page(a, others):
    more = "\n".join(f'<div class="list__item"><span class="list__date " data-unixtime="{o["unixtime"]}">{o["shown"]}</span><a href="{B}{o["path"]}" class="list__title" title="{E(o["title"])}">{E(o["title"])}</a></div>' for o in others)
    return f'''<!DOCTYPE html>
<html lang="fr" prefix="og: http://ogp.me/ns# article: http://ogp.me/ns/article# ya: http://webmaster.yandex.ru/vocabularies/ video: http://ogp.me/ns/video# music: http://ogp.me/ns/music#">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0, minimum-scale=1.0, maximum-scale=1.0">
<title>{E(a['title'])} - {a['shown']}, Sputnik Afrique</title>
<meta name="description" content="{E(a['announce'][:150])}... {a['shown']}, Sputnik Afrique">
<meta name="analytics:title" content="{E(a['title'])}">
<meta name="analytics:author" content="Sputnik Afrique">
<meta property="og:title" content="{E(a['title'])}">
<meta property="og:description" content="{E(a['announce'][:150])}...">
<meta property="og:url" content="{B}{a['path']}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="Sputnik Afrique">
<meta property="og:locale" content="fr_FR">
<meta property="article:published_time" content="{a['iso'].replace('+00:00', '')}Z">
<link rel="canonical" href="{B}{a['path']}">
<link rel="amphtml" href="{B}/amp{a['path']}">
<script type="application/ld+json">{{"@context":"http://schema.org","@type":"NewsArticle","url":"{B}{a['path']}","headline":{yaml_str(a['title'])},"datePublished":"{a['iso']}","inLanguage":"fr","publisher":{{"@type":"Organization","name":"Sputnik Afrique"}}}}</script>
<link rel="stylesheet" href="https://cdnn1.img.sputniknews.africa/min/css/styles.css?1a2b3c">
<script src="https://cdnn1.img.sputniknews.africa/min/js/libs/jquery.min.js?9f1a"></script>
<script>var GLOBAL = GLOBAL || {{}}; GLOBAL.adriver = {{}}; GLOBAL.article = {{"id":{a['path'].rsplit('-', 1)[1].split('.')[0]},"type":"text"}};</script>
</head>
<body class="body m-article m-page-article" id="body" data-ab="a" data-emoji="0" data-article-id="{a['path'].rsplit('-', 1)[1].split('.')[0]}">
<div class="schema_org" itemscope="itemscope" itemtype="http://schema.org/WebSite"><meta itemprop="name" content="Sputnik Afrique"></div>
<div class="page" id="page">
	<div class="header m-fixed" data-nosnippet="">
		<div class="header__inner"><a href="{B}/" class="header__logo"><img src="https://cdnn1.img.sputniknews.africa/i/logo/logo.svg" alt="Sputnik Afrique"></a>
		<div class="header__menu"><ul class="nav"><li class="nav__item"><a href="{B}/afrique/" class="nav__link">Afrique</a></li><li class="nav__item"><a href="{B}/international/" class="nav__link">International</a></li><li class="nav__item"><a href="{B}/economie/" class="nav__link">Économie</a></li><li class="nav__item"><a href="{B}/technologies/" class="nav__link">Technologies</a></li></ul></div>
		<div class="header__search"><form action="{B}/search/"><input type="text" name="query" placeholder="Rechercher"></form></div></div>
	</div>
	<div class="layout">
		<div class="layout__content">
			<div class="article m-article m-text" data-article-id="{a['path'].rsplit('-', 1)[1].split('.')[0]}" data-article-type="text">
				<div class="article__meta" itemscope="" itemtype="https://schema.org/Article"><div itemprop="headline">{E(a['title'])}</div><div itemprop="datePublished">{a['iso']}</div></div>
				<div class="article__header">
					<h1 class="article__title">{E(a['title'])}</h1>
					<div class="article__announce-text">{E(a['announce'], quote=False)}</div>
					<div class="article__info " data-nosnippet="">
						<div class="article__info-date"><a href="{B}/{a['path'][1:9]}/" class="" data-unixtime="{a['unixtime']}">{a['shown']}</a></div>
						<div class="article__info-date-modified"> (mis à jour: <span class="" data-unixtime="{a['unixtime'] + 540}">{a['shown']}</span>)</div>
						<div class="article__view" data-id="{a['path'].rsplit('-', 1)[1].split('.')[0]}"></div>
						<div class="article__info-share"><div class="share m-article" data-id="{a['path'].rsplit('-', 1)[1].split('.')[0]}" data-url="{B}{a['path']}" data-title="{E(a['title'])}"><span class="share__title">Partager</span></div></div>
					</div>
				</div>
				<div class="article__announce">
					<div class="media" data-media-tipe="ar16x9"><div class="media__size"><div class="photoview__open" data-photoview-group="{a['unixtime']}"><img media-type="ar16x9" data-source-sid="rian_photo" alt="{E(a['title'])}" title="{E(a['title'])}" src="https://cdn1.img.sputniknews.africa/img/07e7/07/17/1060715348_0:0:3073:1728_1920x0_80_0_0_123.jpg"></div></div>
					<div class="media__copyright " data-nosnippet=""><div class="media__copyright-item m-copyright">© Sputnik . Vladimir Astapkovich</div></div></div>
				</div>
				<div class="article__body">
{sputnik_blocks(a, others)}
				</div>
				<div class="article__footer">
					<div class="article__tags"><ul class="tags m-noButton"><li class="tag"><a href="{B}/afrique/" class="tag__text">Afrique</a></li><li class="tag"><a href="{B}/technologies/" class="tag__text">Technologies</a></li><li class="tag"><a href="{B}/cooperation/" class="tag__text">Coopération</a></li></ul></div>
					<div class="article__userbar"><div class="share m-article"><span class="share__title">Partager</span><a class="share__item m-telegram" href="https://t.me/share/url?url={B}{a['path']}">Telegram</a><a class="share__item m-whatsapp" href="whatsapp://send?text={B}{a['path']}">WhatsApp</a></div></div>
					<div class="article__comments"><div class="comments"><div class="comments__title">Discussion</div><div class="comments__text">Pour participer à la discussion, inscrivez-vous ou connectez-vous</div><a class="comments__button" href="#">s'inscrire</a></div></div>
				</div>
			</div>
			<div class="article__best-news"><div class="list m-line"><div class="list__title-head">Actualités</div>
{more}
			</div></div>
		</div>
	</div>
	<div class="footer" data-nosnippet=""><div class="footer__copyright">© 2024 Sputnik. Tous droits réservés. 18+</div><div class="footer__menu"><a href="{B}/docs/about/">À propos</a> <a href="{B}/docs/privacy_policy.html">Politique de confidentialité</a></div></div>
</div>
<script src="https://cdnn1.img.sputniknews.africa/min/js/dist/article.js?3f9a"></script>
<script>(function(){{ window.ria = window.ria || {{}}; ria.articleInit({{"id":"{a['path']}"}}); }})();</script>
</body>
</html>
'''

def sputnik_feed(items):
    entries = []
    for a in items:
        entries.append(f'''<item><title>{E(a['title'], quote=False)}</title><link>{B}{a['path']}</link><guid>{B}{a['path']}</guid><pubDate>{a['rfc']}</pubDate><description>{E(a['announce'], quote=False)}</description><category>Afrique</category><enclosure url="https://cdn1.img.sputniknews.africa/img/07e7/07/17/1060715348_0:0:3073:1728_1920x0_80_0_0_123.jpg" type="image/jpeg" length="0"/><type>article</type><priority>normal</priority></item>''')
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Sputnik Afrique</title><link>{B}/</link><description>Sputnik Afrique : actualité africaine et internationale, analyses, reportages.</description><language>fr</language><copyright>Sputnik</copyright><image><url>https://cdnn1.img.sputniknews.africa/i/logo/logo-social.png</url><title>Sputnik Afrique</title><link>{B}/</link></image>{''.join(entries)}</channel></rss>
'''

def gen_sputnik():
    order = sorted(SPUTNIK, key=lambda a: a["iso"], reverse=True)
    write("sputnik-afrique", "/export/rss2/archive/index.xml", sputnik_feed(order))
    for a in SPUTNIK:
        write("sputnik-afrique", a["path"], sputnik_page(a, [o for o in SPUTNIK if o is not a]))
    out = []
    for a in order:
        texts = [t for k, t in a["blocks"] if k == "text"]
        out.append(dict(path=a["path"], title=a["title"], published=a["iso"], author=None,
                        first=first_sentence(a["announce"]), last=last_sentence(texts[-1])))
    return out

if __name__ == "__main__":
    import yaml
    FORBIDDEN = {
      "digital-business-africa": ["LAISSER UNE RÉPONSE", "Si vous avez aimé", "Plus d'infos", "spot_img", "Partager", "Advertisement", "Par Jean Materne Zambo", "Par Ange Ponou", "Osiane", "Veuillez saisir", "TAGS", "Facebook", "Article précédent", "[DIGITAL Business Africa]", "Tous droits réservés"],
      "agence-ecofin": ["Lire aussi", "Articles similaires", "Imprimer", "E-mail", "Tweet", "Tagged under", "Publié dans", "Les plus lus", "newsletter", "(Agence Ecofin)", "25/03/2019", "taille de la police", "retour en haut"],
      "icesco": ["Disclaimer", "Google Translate", "votre avis", "Commentaires des utilisateurs", "satisfait", "Articles les plus récents", "Partager", "Étiquettes", "Avenue des F.A.R", "Aller au contenu"],
      "sputnik-afrique": ["Partager", "Discussion", "© Sputnik", "À lire aussi", "nucléaire civil", "coopération spatiale", "Actualités", "mis à jour", "Telegram"],
    }
    header = ("# What extracting each article page of this fixture site must give (tests/test_extract.py).\n"
              "# path: URL path under the site; published: ISO 8601; first/last: the body's first and last sentence.\n"
              "# forbidden: boilerplate of the page that must never reach any body (other articles' titles are checked too).\n")
    for name, fn in [("digital-business-africa", gen_dba), ("agence-ecofin", gen_ecofin), ("icesco", gen_icesco), ("sputnik-afrique", gen_sputnik)]:
        arts = fn()
        (OUT / name / "expected.yaml").write_text(header + yaml.safe_dump({"articles": arts, "forbidden": FORBIDDEN[name]}, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
    print("done")

<?xml version="1.0"?>
<!-- OCF resource agent meta-data to a troff man page (section 7), in the
     layout of resource-agents' ocf_heartbeat_*(7) pages.  resource-agents
     builds those through DocBook (ra2refentry.xsl + docbook-xsl), which
     Debian does not package with the agents; this stylesheet writes the
     page directly.  Parameters: package, version. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="text" encoding="UTF-8"/>
  <xsl:param name="package" select="'disklink'"/>
  <xsl:param name="version" select="''"/>
  <xsl:param name="provider" select="'disklink'"/>

  <xsl:variable name="agent" select="/resource-agent/@name"/>

  <!-- Escape troff: backslashes, and a leading dot or quote on a line. -->
  <xsl:template name="esc">
    <xsl:param name="s"/>
    <xsl:call-template name="lead">
      <xsl:with-param name="s">
        <xsl:call-template name="replace">
          <xsl:with-param name="s" select="$s"/>
          <xsl:with-param name="from" select="'\'"/>
          <xsl:with-param name="to" select="'\e'"/>
        </xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="s"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($s, $from)">
        <xsl:value-of select="substring-before($s, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="s" select="substring-after($s, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- Lines of a text: each trimmed; blank lines between text become one
       .PP; a line that starts with a dot or quote is protected with \&. -->
  <xsl:template name="lead">
    <xsl:param name="s"/>
    <xsl:param name="started" select="false()"/>
    <xsl:param name="gap" select="false()"/>
    <xsl:variable name="line" select="normalize-space(substring-before(concat($s, '&#10;'), '&#10;'))"/>
    <xsl:variable name="rest" select="substring-after($s, '&#10;')"/>
    <xsl:if test="$line != ''">
      <xsl:if test="$started and $gap"><xsl:text>.PP&#10;</xsl:text></xsl:if>
      <xsl:if test="starts-with($line, '.') or starts-with($line, &quot;'&quot;)">
        <xsl:text>\&amp;</xsl:text>
      </xsl:if>
      <xsl:value-of select="$line"/><xsl:text>&#10;</xsl:text>
    </xsl:if>
    <xsl:if test="normalize-space($rest) != ''">
      <xsl:call-template name="lead">
        <xsl:with-param name="s" select="$rest"/>
        <xsl:with-param name="started" select="$started or $line != ''"/>
        <xsl:with-param name="gap" select="$line = ''"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>

  <xsl:template match="/resource-agent">
    <xsl:text>.TH "OCF_</xsl:text>
    <xsl:value-of select="translate($provider, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"/>
    <xsl:text>_</xsl:text>
    <xsl:value-of select="translate($agent, 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')"/>
    <xsl:text>" "7" "" "</xsl:text>
    <xsl:value-of select="$package"/><xsl:text> </xsl:text><xsl:value-of select="$version"/>
    <xsl:text>" "OCF resource agents"&#10;</xsl:text>
    <xsl:text>.SH "NAME"&#10;ocf_</xsl:text>
    <xsl:value-of select="$provider"/><xsl:text>_</xsl:text><xsl:value-of select="$agent"/>
    <xsl:text> \- </xsl:text>
    <xsl:call-template name="esc"><xsl:with-param name="s" select="shortdesc"/></xsl:call-template>
    <xsl:text>.SH "SYNOPSIS"&#10;.HP 29&#10;\fB</xsl:text>
    <xsl:value-of select="$agent"/>
    <xsl:text>\fR [start | stop | monitor | </xsl:text>
    <xsl:for-each select="actions/action[not(@name = 'start' or @name = 'stop' or @name = 'monitor')]">
      <xsl:if test="not(@name = preceding-sibling::action/@name)">
        <xsl:value-of select="@name"/>
        <xsl:if test="position() != last()"><xsl:text> | </xsl:text></xsl:if>
      </xsl:if>
    </xsl:for-each>
    <xsl:text>]&#10;.SH "DESCRIPTION"&#10;</xsl:text>
    <xsl:call-template name="esc"><xsl:with-param name="s" select="longdesc"/></xsl:call-template>
    <xsl:text>.SH "SUPPORTED PARAMETERS"&#10;</xsl:text>
    <xsl:apply-templates select="parameters/parameter"/>
    <xsl:text>.SH "SUPPORTED ACTIONS"&#10;This resource agent supports the following actions (operations):&#10;</xsl:text>
    <xsl:apply-templates select="actions/action"/>
    <xsl:text>.SH "EXAMPLE PCS"&#10;The following is an example configuration for a </xsl:text>
    <xsl:value-of select="$agent"/>
    <xsl:text> resource using the \fBpcs\fR(8) shell:&#10;.sp&#10;.if n \{\&#10;.RS 4&#10;.\}&#10;.nf&#10;pcs resource create example_</xsl:text>
    <xsl:value-of select="$agent"/><xsl:text> ocf:</xsl:text><xsl:value-of select="$provider"/>
    <xsl:text>:</xsl:text><xsl:value-of select="$agent"/>
    <xsl:for-each select="parameters/parameter[@required = '1']">
      <xsl:text> \e&#10;  </xsl:text><xsl:value-of select="@name"/>
      <xsl:text>=</xsl:text><xsl:value-of select="translate(@name, 'abcdefghijklmnopqrstuvwxyz_', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ_')"/>
    </xsl:for-each>
    <xsl:text> \e&#10;  op monitor interval="10s" timeout="30s" \e&#10;  clone interleave=true&#10;.fi&#10;.if n \{\&#10;.RE&#10;.\}&#10;</xsl:text>
    <xsl:text>.SH "SEE ALSO"&#10;\fBdisklink\fR(8), \fBdisklinkd\fR(8), \fBpcs\fR(8), \fBcorosync.conf\fR(5)&#10;</xsl:text>
  </xsl:template>

  <xsl:template match="parameter">
    <xsl:text>.PP&#10;\fB</xsl:text>
    <xsl:value-of select="@name"/>
    <xsl:text>\fR&#10;.RS 4&#10;</xsl:text>
    <xsl:call-template name="esc"><xsl:with-param name="s" select="longdesc"/></xsl:call-template>
    <xsl:text>.sp&#10;(</xsl:text>
    <xsl:if test="@unique = '1'"><xsl:text>unique, </xsl:text></xsl:if>
    <xsl:choose>
      <xsl:when test="@required = '1'"><xsl:text>required, </xsl:text></xsl:when>
      <xsl:otherwise><xsl:text>optional, </xsl:text></xsl:otherwise>
    </xsl:choose>
    <xsl:value-of select="content/@type"/>
    <xsl:choose>
      <xsl:when test="content/@default != ''">
        <xsl:text>, default "</xsl:text>
        <xsl:call-template name="replace">
          <xsl:with-param name="s" select="content/@default"/>
          <xsl:with-param name="from" select="'\'"/>
          <xsl:with-param name="to" select="'\e'"/>
        </xsl:call-template>
        <xsl:text>"</xsl:text>
      </xsl:when>
      <xsl:otherwise><xsl:text>, no default</xsl:text></xsl:otherwise>
    </xsl:choose>
    <xsl:text>)&#10;.RE&#10;</xsl:text>
  </xsl:template>

  <xsl:template match="action">
    <xsl:text>.PP&#10;\(bu&#10;\fB</xsl:text>
    <xsl:value-of select="@name"/>
    <xsl:text>\fR</xsl:text>
    <xsl:if test="@timeout"><xsl:text>: timeout=</xsl:text><xsl:value-of select="@timeout"/></xsl:if>
    <xsl:if test="@interval"><xsl:text> interval=</xsl:text><xsl:value-of select="@interval"/></xsl:if>
    <xsl:if test="@depth"><xsl:text> depth=</xsl:text><xsl:value-of select="@depth"/></xsl:if>
    <xsl:text>&#10;</xsl:text>
  </xsl:template>
</xsl:stylesheet>

package io.solvertune.service.dashboard;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.solvertune.service.configs.ConfigPublisher;
import io.solvertune.service.jobs.WorkerPool;
import io.solvertune.service.security.Role;
import io.solvertune.service.security.TokenService;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by Selenium through /usr/bin/chromedriver
 * (given explicitly, so Selenium Manager never looks anything up or downloads anything). Skipped, with a message
 * naming the packages, when chromium or chromium-driver is not installed.
 *
 * <p>The main test signs in, gets per-field errors from the submit form, submits the example job from the form and
 * watches it reach SUCCEEDED live (no reload), opens the error-vs-NFE plot, downloads an export, promotes a config,
 * sees the 409 reason of a model delete, creates a token (shown once), signs in with it in a second tab, revokes it from
 * the first tab and sees the revoked session refused. Strings carrying markup ({@code <img src=x onerror=...>}) are
 * shown as text and never run. Every page is checked with axe-core (WCAG 2 A/AA rules) and written as a screenshot to
 * {@code target/dashboard-screenshots/}. The second test measures page and plot times with 1,000 configs and 200 jobs.
 */
@QuarkusTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {

    static final Path CHROMIUM = Path.of(System.getProperty("solvertune.test.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("solvertune.test.chromedriver",
            "/usr/bin/chromedriver"));
    static final Path SHOTS = Path.of("target", "dashboard-screenshots");
    static final String XSS = "<img src=x onerror=alert(1)>";
    static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URL server;

    @Inject
    TokenService tokens;

    @Inject
    ConfigPublisher publisher;

    @Inject
    AgroalDataSource ds;

    @Inject
    WorkerPool pool;

    ChromeDriver driver;
    Path profile;
    Path downloads;
    final List<String> axeReport = new ArrayList<>();

    @BeforeEach
    void browser(TestInfo info) throws IOException {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "SKIPPED " + info.getDisplayName() + ": the dashboard browser test needs Debian's chromium and "
                        + "chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER + "): apt-get install chromium "
                        + "chromium-driver");
        Files.createDirectories(SHOTS);
        profile = Files.createTempDirectory("solvertune-chromium-");
        downloads = Files.createTempDirectory("solvertune-downloads-");
        // no Selenium Manager: the driver and the browser are named explicitly
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-default-apps", "--disable-extensions", "--user-data-dir=" + profile,
                "--window-size=1280,860", "--force-device-scale-factor=1");
        o.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
                "download.prompt_for_download", false));
        o.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        driver = new ChromeDriver(service, o);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
    }

    @AfterEach
    void close() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        for (Path p : new Path[] {profile, downloads}) {
            if (p != null) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.sorted(Collections.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    String url(String hash) {
        return server.toString().replaceAll("/$", "") + "/dashboard/" + hash;
    }

    WebDriverWait waiting(int seconds) {
        return (WebDriverWait) new WebDriverWait(driver, Duration.ofSeconds(seconds), Duration.ofMillis(100))
                .ignoring(StaleElementReferenceException.class);
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Opens a page by its hash and waits until the UI says it is rendered. */
    void open(String hash) {
        driver.get(url(hash));
        waitRendered(hash);
    }

    void waitRendered(String hash) {
        waiting(60).until(d -> hash.equals(js("return document.body.dataset.rendered || null")));
    }

    WebElement el(String css) {
        return waiting(30).until(d -> {
            List<WebElement> found = d.findElements(By.cssSelector(css));
            return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
        });
    }

    void shot(String name) throws IOException {
        Files.write(SHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
    }

    /** Runs axe-core's WCAG 2 A/AA rules on the page; violations are collected and fail the test at the end. */
    void axe(String page) throws IOException {
        if (!Boolean.TRUE.equals(js("return typeof axe !== 'undefined'"))) {
            try (InputStream in = getClass().getClassLoader()
                    .getResourceAsStream("META-INF/resources/webjars/axe-core/4.6.3/axe.min.js")) {
                assertNotNull(in, "axe-core webjar");
                js(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        Object result = ((JavascriptExecutor) driver).executeAsyncScript("const done = arguments[arguments.length - 1];"
                + "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
                + ".then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, "
                + "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' ' + n.failureSummary)})))))"
                + ".catch(e => done('ERROR ' + e));");
        String s = String.valueOf(result);
        if (s.startsWith("ERROR")) {
            fail("axe-core on " + page + ": " + s);
        }
        JsonNode v = JSON.readTree(s);
        if (!v.isEmpty()) {
            axeReport.add(page + ": " + v.toPrettyString());
        }
    }

    void noAlert() {
        try {
            String text = driver.switchTo().alert().getText();
            fail("an alert ran: " + text);
        } catch (NoAlertPresentException expected) {
            // nothing ran
        }
        assertEquals(0L, js("return document.querySelectorAll('img[src=\"x\"], img[src$=\"/x\"]').length"),
                "no <img src=x> element was created from a string");
    }

    void signIn(String token) {
        driver.get(url("#/signin"));
        waitRendered("#/signin");
        WebElement t = el("#token");
        t.sendKeys(token);
        driver.findElement(By.cssSelector("#signin-form button[type=submit]")).click();
        waiting(30).until(d -> {
            Object r = js("return document.body.dataset.rendered || null");
            return r != null && !"#/signin".equals(r);
        });
    }

    // ---- the main flow ---------------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void signInSubmitWatchPlotDownloadPromoteRevoke() throws Exception {
        String admin = tokens.create("browser-admin", Role.ADMIN).token();
        tokens.create(XSS, Role.READER); // a token whose name is markup: the tokens page shows it as text
        int reg = given().header("Authorization", "Bearer " + admin).contentType("application/json")
                .body("{\"name\": \"gmm-sd-d32\", \"description\": \"" + XSS.replace("\"", "\\\"")
                        + "\", \"spec\": {\"preset\": \"gmm-sd-d32\"}}").post("/api/v1/models").statusCode();
        assertTrue(reg == 201 || reg == 409, "registered (or already there): " + reg);
        pool.start();

        // sign-in: the token goes to sessionStorage, never to the URL or a cookie
        driver.get(url(""));
        waitRendered("#/signin");
        shot("01-signin");
        axe("sign-in");
        signIn(admin);
        waitRendered("#/overview");
        assertEquals(admin, js("return sessionStorage.getItem('solvertune.token')"));
        assertFalse(driver.getCurrentUrl().contains(admin));
        assertEquals("", js("return document.cookie"));
        shot("02-overview");
        axe("overview");

        // the submit form: per-field errors from the problem details
        open("#/jobs/new");
        new Select(el("#example")).selectByValue("gmm-tiny");
        el("#load-example").click();
        WebElement nfe = el("#f-nfe");
        nfe.clear();
        nfe.sendKeys("0, 6");
        WebElement train = el("#f-seeds-train");
        train.clear();
        train.sendKeys("-3");
        el("#submit-job").click();
        waiting(30).until(d -> !d.findElement(By.id("f-nfe-err")).getText().isBlank());
        assertTrue(el("#f-nfe-err").getText().startsWith("nfe[0]"), el("#f-nfe-err").getText());
        assertEquals("true", el("#f-nfe").getAttribute("aria-invalid"));
        assertFalse(el("#f-seeds-train-err").getText().isBlank(), "every invalid field is named at once");
        shot("03-submit-errors");
        axe("submit form with errors");

        // the example job, submitted from the form, watched live until it succeeds
        nfe.clear();
        nfe.sendKeys("5, 6");
        train.clear();
        train.sendKeys("32");
        el("#submit-job").click();
        waiting(30).until(d -> d.getCurrentUrl().matches(".*#/jobs/\\d+$"));
        String jobHash = driver.getCurrentUrl().replaceAll(".*(#/jobs/\\d+)$", "$1");
        long jobId = Long.parseLong(jobHash.replaceAll("\\D", ""));
        waitRendered(jobHash);
        js("window.__sameDocument = 'yes'");
        el("#stage-graph svg");
        waiting(120).until(d -> !d.findElement(By.id("logs")).getText().isBlank());
        shot("04-job-running");
        long t0 = System.nanoTime();
        waiting(900).until(d -> {
            String s = String.valueOf(js("return document.getElementById('job-state').textContent"));
            if (s.equals("FAILED") || s.equals("CANCELLED")) {
                throw new AssertionError("job " + jobId + " ended " + s + ": "
                        + js("return document.getElementById('job-head').textContent"));
            }
            return s.equals("SUCCEEDED");
        });
        System.out.printf("DASHBOARD-BROWSER job %d reached SUCCEEDED %.1f s after its page was open%n", jobId,
                (System.nanoTime() - t0) / 1e9);
        assertEquals("yes", js("return window.__sameDocument || null"),
                "the page followed the job over its event stream, without a reload");
        el("#to-configs");
        assertTrue(driver.findElements(By.cssSelector("#stage-graph g.n-SUCCEEDED")).size() > 5);
        assertTrue(driver.findElements(By.cssSelector("#stage-graph g.n-RUNNING, #stage-graph g.n-PENDING")).isEmpty());
        shot("05-job");
        axe("job");

        // the error-vs-NFE plot of the model
        el("#to-configs").click();
        waiting(60).until(d -> js("return document.body.dataset.plotDrawn || null") != null);
        assertNotNull(el("#error-plot canvas"));
        List<WebElement> rows = driver.findElements(By.cssSelector("#configs tbody tr"));
        assertTrue(rows.size() >= 2, "configs of the job: " + rows.size());
        assertTrue(driver.findElement(By.id("configs")).getText().contains("recommended"));
        assertTrue(driver.findElement(By.cssSelector(".u-legend")).getText().contains("best untuned baseline"));
        // every config the job published shows the median and p99 of its per-seed held-out errors
        new Select(el("#guidance")).selectByValue("7.5");
        JsonNode shown = JSON.readTree(given().header("Authorization", "Bearer " + admin)
                .get("/api/v1/dashboard/models/gmm-sd-d32/configs").then().statusCode(200).extract().asString());
        int withQuantiles = 0;
        for (JsonNode c : shown.path("configs")) {
            if (c.path("jobId").asLong() != jobId || c.path("guidance").asDouble() != 7.5) {
                continue;
            }
            JsonNode m = c.path("metrics");
            assertTrue(m.path("heldOutMedian").isNumber() && m.path("heldOutP99").isNumber(), m.toString());
            List<WebElement> cells = driver.findElements(By.xpath("//table[@id='configs']//tr[td[1]/a[text()='"
                    + c.path("id").asLong() + "']]/td"));
            assertEquals(11, cells.size(), "row of config " + c.path("id"));
            assertEquals(m.get("heldOutMedian").asDouble(), Double.parseDouble(cells.get(6).getText()),
                    1e-3 * m.get("heldOutMedian").asDouble(), "median cell of config " + c.path("id"));
            assertEquals(m.get("heldOutP99").asDouble(), Double.parseDouble(cells.get(7).getText()),
                    1e-3 * m.get("heldOutP99").asDouble(), "p99 cell of config " + c.path("id"));
            withQuantiles++;
        }
        assertTrue(withQuantiles >= 2, "configs of job " + jobId + " in the table: " + withQuantiles);
        shot("06-configs");
        axe("configs of a model");

        // a config: download an export, promote it to stable
        driver.findElement(By.xpath("//table[@id='configs']//tr[.//span[contains(@class,'badge-recommended')]]"
                + "//td[1]/a")).click();
        WebElement json = el("#exports button[data-format=json]");
        String configHash = driver.getCurrentUrl().replaceAll(".*(#/configs/\\d+)$", "$1");
        long configId = Long.parseLong(configHash.replaceAll("\\D", ""));
        json.click();
        el("#download-done");
        Path file = waitForDownload();
        JsonNode doc = JSON.readTree(file.toFile());
        assertEquals(configId, doc.path("id").asLong(), "the downloaded export is this config's document");
        el("#promote").click();
        assertTrue(el("#promoted").getText().contains("config " + configId));
        JsonNode listing = JSON.readTree(given().header("Authorization", "Bearer " + admin)
                .get("/api/v1/dashboard/models/gmm-sd-d32/configs").then().statusCode(200).extract().asString());
        boolean stable = false;
        for (JsonNode c : listing.path("configs")) {
            stable |= c.path("id").asLong() == configId && c.path("stable").asBoolean();
        }
        assertTrue(stable, "the promoted config is stable: " + listing);
        shot("07-config");
        axe("config");

        // models: markup in a description and in a refused name stays text; delete shows the 409 reason
        open("#/models");
        shot("08-models");
        axe("models");
        // upload a TorchScript module (the project's Fashion-MNIST UNet, 4.4 MB) with the progress bar
        Path unet = Path.of("tuning-jobs/fmnist-unet/unet.pt").toAbsolutePath();
        if (Files.isRegularFile(unet)) {
            driver.findElement(By.id("u-file")).sendKeys(unet.toString());
            el("#u-name").sendKeys("unet-browser");
            WebElement classes = el("#u-classes");
            classes.clear();
            classes.sendKeys("10");
            el("#upload").click();
            WebElement done = waiting(180).until(d -> d.findElements(By.cssSelector("#upload-result .ok, "
                    + "#upload-result .problem")).stream().findFirst().orElse(null));
            assertTrue(done.getText().startsWith("Uploaded and registered unet-browser"), done.getText());
            assertEquals("1", el("#upload-progress").getAttribute("value"));
            assertEquals("100 %", el("#upload-pct").getText());
            shot("08b-upload");
        }
        el("#r-name").sendKeys(XSS);
        el("#register").click();
        el("#register-result .problem");
        noAlert();
        WebElement gmm = driver.findElement(By.linkText("gmm-sd-d32"));
        gmm.click();
        waiting(30).until(d -> String.valueOf(js("return document.body.dataset.rendered || ''")).startsWith("#/models/"));
        assertTrue(el("#model-detail").getText().contains(XSS), "the description is shown literally");
        noAlert();
        el("#delete-model").click();
        WebElement problem = el("#delete-result .problem");
        assertTrue(problem.getText().startsWith("409"), problem.getText());
        shot("09-model-delete-409");
        axe("model");

        // tokens: create (shown once), sign in with it elsewhere, revoke it here, the other session is refused
        open("#/tokens");
        assertTrue(el("#tokens").getText().contains(XSS), "a token name with markup is shown as text");
        noAlert();
        el("#t-name").sendKeys("browser-victim");
        new Select(el("#t-role")).selectByValue("submitter");
        el("#create-token").click();
        String victim = el("#new-token").getText().strip();
        assertTrue(victim.startsWith("st_"), victim);
        shot("10-tokens");
        axe("tokens");
        String adminTab = driver.getWindowHandle();
        driver.switchTo().newWindow(WindowType.TAB);
        signIn(victim);
        waitRendered("#/overview");
        String victimTab = driver.getWindowHandle();
        driver.switchTo().window(adminTab);
        open("#/tokens");
        String victimId = driver.findElement(By.xpath("//table[@id='tokens']//tr[td[2][text()='browser-victim']]"))
                .getAttribute("data-token");
        el("button[data-revoke='" + victimId + "']").click();
        waiting(30).until(d -> d.findElements(By.cssSelector("button[data-revoke='" + victimId + "']")).isEmpty());
        driver.switchTo().window(victimTab);
        driver.get(url("#/jobs"));
        waitRendered("#/signin");
        String status = el("#status").getText();
        assertTrue(status.contains("refused (401)"), status);
        assertEquals(null, js("return sessionStorage.getItem('solvertune.token')"), "the refused token is dropped");
        shot("11-revoked-session");

        noAlert();
        assertNoPolicyViolations();
        assertTrue(axeReport.isEmpty(), "accessibility violations (axe-core, WCAG 2 A/AA):\n"
                + String.join("\n", axeReport));
    }

    Path waitForDownload() {
        return waiting(30).until(d -> {
            try (Stream<Path> s = Files.list(downloads)) {
                return s.filter(p -> !p.toString().endsWith(".crdownload") && !p.toString().endsWith(".tmp"))
                        .findFirst().orElse(null);
            } catch (IOException e) {
                return null;
            }
        });
    }

    void assertNoPolicyViolations() {
        List<String> bad = new ArrayList<>();
        for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
            String m = e.getMessage();
            if (m.contains("Content Security Policy") || m.contains("Uncaught") || m.contains("TypeError")) {
                bad.add(m);
            }
        }
        assertTrue(bad.isEmpty(), "browser console: " + bad);
    }

    // ---- 1,000 configs and 200 jobs --------------------------------------------------------------------------------

    @Test
    @Order(2)
    void pagesStayFastWithAThousandConfigsAndTwoHundredJobs() throws Exception {
        TokenService.CreatedToken admin = tokens.create("bench-admin", Role.ADMIN);
        String model = "bench-1000-" + UUID.randomUUID().toString().substring(0, 6);
        long modelId = DashboardFixtures.model(model, "1,000 configs for the dashboard benchmark");
        // 10 methods x 10 NFEs x 2 guidance scales x 5 variants
        long published = System.nanoTime();
        List<Long> ids = DashboardFixtures.publish(publisher, modelId, 10, new int[] {3, 4, 5, 6, 7, 8, 9, 10, 11, 12},
                new double[] {1.0, 7.5}, 5);
        assertEquals(1000, ids.size());
        System.out.printf("dashboard benchmark: 1,000 configs published in one publish in %d ms%n",
                (System.nanoTime() - published) / 1_000_000);
        DashboardFixtures.jobs(ds, admin.info().id(), "bench-admin", model, 200, 20);

        signIn(admin.token());
        int runs = 7;
        double[] overview = new double[runs];
        double[] jobs = new double[runs];
        double[] plot = new double[runs];
        double[] plotDraw = new double[runs];
        for (int i = 0; i < runs; i++) {
            open("#/overview");
            overview[i] = Double.parseDouble(String.valueOf(js("return document.body.dataset.renderMs")));
            open("#/jobs");
            jobs[i] = Double.parseDouble(String.valueOf(js("return document.body.dataset.renderMs")));
            driver.get(url("#/models/" + modelId + "/configs"));
            waiting(60).until(d -> js("return document.body.dataset.plotDrawn || null") != null);
            plot[i] = ((Number) js("return window.solvertunePlot.totalMs")).doubleValue();
            plotDraw[i] = ((Number) js("return window.solvertunePlot.drawMs")).doubleValue();
            assertEquals(500L, js("return window.solvertunePlot.shown"));
            assertEquals(1000L, js("return window.solvertunePlot.configs"));
        }
        assertEquals(500, driver.findElements(By.cssSelector("#configs tbody tr")).size());
        shot("12-configs-1000");
        new Select(el("#guidance")).selectByValue("7.5");
        open("#/overview");
        shot("13-overview-200-jobs");
        open("#/jobs/" + js("return document.querySelector('#running-jobs a').textContent.slice(1)"));
        shot("14-job-graph");
        // a learned solver's config: training curve and fit report
        long fitted = DashboardFixtures.publishFitted(publisher, modelId, 6, 120);
        open("#/configs/" + fitted);
        assertNotNull(el("#training-curve canvas"));
        assertNotNull(el("#fit-plot canvas"));
        assertTrue(el("#metrics").getText().contains("heldOutP99"));
        assertNotNull(el("#exports button[data-format=dc-ratios]"), "a DC config exports its ratios");
        assertTrue(driver.findElements(By.cssSelector("#config-detail ~ .problem")).isEmpty());
        shot("15-config-learned");
        axe("config of a learned solver");
        assertTrue(axeReport.isEmpty(), String.join("\n", axeReport));

        // an image model's sample grid, rendered on request and shown from the artifact store
        if (Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist"))) {
            String fm = "fmnist-" + UUID.randomUUID().toString().substring(0, 6);
            long fmId = given().header("Authorization", "Bearer " + admin.token()).contentType("application/json")
                    .body("{\"name\": \"" + fm + "\", \"spec\": {\"preset\": \"fmnist-empirical\"}}")
                    .post("/api/v1/models").then().statusCode(201).extract().jsonPath().getLong("id");
            DashboardFixtures.publish(publisher, fmId, 3, new int[] {5, 6}, new double[] {1.0}, 2);
            open("#/models/" + fmId + "/configs");
            el("#show-grid").click();
            waiting(300).until(d -> "yes".equals(js("const i = document.querySelector('#sample-grid img');"
                    + " return i ? i.dataset.loaded || null : null")));
            assertEquals(6L, js("return document.querySelectorAll('#sample-grid figcaption li').length"));
            js("document.getElementById('h-grid').scrollIntoView()");
            shot("16-sample-grid");
            axe("sample grid");
            assertTrue(axeReport.isEmpty(), String.join("\n", axeReport));
        } else {
            System.out.println("DASHBOARD-BROWSER sample grid not shown: dataset-fashion-mnist is not installed");
        }

        System.out.printf("DASHBOARD-BENCH 1000 configs (500 at the shown guidance), 200 jobs x 20 stages, %d runs, "
                + "headless chromium %s%n", runs, driver.getCapabilities().getBrowserVersion());
        print("overview page rendered (fetch + DOM)", overview);
        print("jobs page rendered (first 50 jobs)", jobs);
        print("configs page: time to drawn error-vs-NFE plot (fetch + plot)", plot);
        print("configs page: plot drawing alone (uPlot + error bars)", plotDraw);
        assertNoPolicyViolations();
    }

    static void print(String what, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        System.out.printf("DASHBOARD-BENCH %-62s median %6.0f ms  min %6.0f ms  max %6.0f ms%n", what,
                s[s.length / 2], s[0], s[s.length - 1]);
    }
}
